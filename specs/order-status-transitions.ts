import { idPool, insertRows, sqlRule, valuePool } from 'pgconform';

const orders = idPool('order', 3);
// order#3 is placed and paid before the first step (through the schema's own rules), so paid moves are one step away.
const paid = `${insertRows('orders', [{ id: String(orders.values[2]), status: 'pending' }])}\nUPDATE orders SET status = 'paid' WHERE id = '${String(orders.values[2])}';`;

/** Rule 12 (field): a new order is pending; its status moves only pending → paid | cancelled and paid → shipped | refunded. */
export default sqlRule({
  id: 'order-status-transitions',
  title: 'an order status moves only along the allowed transitions',
  source: 'field rule 12',
  parameters: {
    order: orders,
    status: valuePool('status', ['pending', 'paid', 'shipped', 'cancelled', 'refunded']),
  },
  operations: [
    { name: 'place', sql: 'INSERT INTO orders (id, status) VALUES (:order, :status)', describe: 'place {order} as {status}', weight: 2 },
    { name: 'move', sql: 'UPDATE orders SET status = :status WHERE id = :order', describe: 'set {order} status to {status}', weight: 4 },
  ],
  transition: {
    table: 'orders',
    allowed:
      "CASE change.op WHEN 'INSERT' THEN new.status = 'pending' " +
      "WHEN 'UPDATE' THEN old.status = new.status OR (old.status, new.status) IN (('pending', 'paid'), ('pending', 'cancelled'), ('paid', 'shipped'), ('paid', 'refunded')) " +
      'ELSE true END',
  },
  tables: ['orders'],
  setup: paid,
  columns: { orders: ['status'] },
  defaultSchema: ['../fixtures/order-status-transitions/reference.sql'],
  fixtures: '../fixtures/order-status-transitions',
});
