import { idPool, insertRows, sqlRule, timeSlots, valuePool } from 'pgconform';
import { lastOf, parentRows } from './shared/field.ts';

const rooms = idPool('room', 2);
const bookings = idPool('booking', 5);
const slots = timeSlots('slot', { start: '2025-03-03T09:00:00Z', minutes: 60, count: 4, maxLength: 2 });
// A cancelled booking of room#1 in the first slot: un-cancelling it meets a new booking there.
const cancelled = insertRows('bookings', lastOf(bookings, 1).map((id) => ({ id, room_id: String(rooms.values[0]), starts_at: slots.boundaries[0]!, ends_at: slots.boundaries[1]!, cancelled_at: '2025-03-01T12:00:00Z' })));

/** Rule 10 (field): two live bookings of one room never overlap; intervals are half-open [starts_at, ends_at). */
export default sqlRule({
  id: 'no-overlapping-bookings',
  title: 'a room is never booked twice at once',
  source: 'field rule 10',
  parameters: {
    booking: bookings,
    room: rooms,
    // Four one-hour slots, bookings of one or two: adjacent and overlapping intervals come up often.
    slot: slots,
    cancelled: valuePool('cancelled_at', ['2025-03-01T12:00:00Z']),
  },
  operations: [
    { name: 'book', sql: 'INSERT INTO bookings (id, room_id, starts_at, ends_at) VALUES (:booking, :room, :slot.start, :slot.end)', describe: 'book {room} {slot} as {booking}', weight: 4 },
    { name: 'move', sql: 'UPDATE bookings SET starts_at = :slot.start, ends_at = :slot.end WHERE id = :booking', describe: 'move {booking} to {slot}', weight: 2 },
    { name: 'change-room', sql: 'UPDATE bookings SET room_id = :room WHERE id = :booking', describe: 'move {booking} to {room}', weight: 1 },
    { name: 'cancel', sql: 'UPDATE bookings SET cancelled_at = :cancelled WHERE id = :booking', describe: 'cancel {booking}', weight: 2 },
    { name: 'uncancel', sql: 'UPDATE bookings SET cancelled_at = NULL WHERE id = :booking', describe: 'un-cancel {booking}', weight: 2 },
  ],
  invariant:
    'SELECT a.room_id AS room, a.id AS booking, b.id AS overlapping FROM bookings a JOIN bookings b ' +
    'ON b.room_id = a.room_id AND a.id < b.id AND a.cancelled_at IS NULL AND b.cancelled_at IS NULL ' +
    "AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')",
  tables: ['rooms', 'bookings'],
  columns: { bookings: ['room_id', 'starts_at', 'ends_at', 'cancelled_at'] },
  setup: `${parentRows('rooms', rooms, (i) => ({ name: `Room ${i + 1}` }))}\n${cancelled}`,
  defaultSchema: ['../fixtures/no-overlapping-bookings/reference.sql'],
  fixtures: '../fixtures/no-overlapping-bookings',
});
