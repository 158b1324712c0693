import { idPool, insertRows, sqlRule, valuePool } from 'pgconform';
import { lastOf, parentRows } from './shared/field.ts';

const posts = idPool('post', 3);
// Two of the three posts exist from the start; the third is for "insert post".
const existing = { values: posts.values.slice(0, 2) };
const comments = idPool('comment', 5);
// One comment exists from the start, so that moving or deleting it is one step away.
const firstComment = insertRows('comments', lastOf(comments, 1).map((id) => ({ id, post_id: String(posts.values[0]), body: 'Welcome' })));

/** Rule 8 (field): a post's stored comment_count always equals the number of its comments. */
export default sqlRule({
  id: 'comment-count-matches',
  title: "a post's comment_count equals the number of its comments",
  source: 'field rule 8',
  parameters: {
    post: posts,
    comment: comments,
    body: valuePool('body', ['First!', 'Thanks for writing this']),
    title: valuePool('title', ['Release notes']),
  },
  operations: [
    { name: 'comment', sql: 'INSERT INTO comments (id, post_id, body) VALUES (:comment, :post, :body)', describe: 'insert {comment} on {post}', weight: 4, mustAccept: true },
    { name: 'uncomment', sql: 'DELETE FROM comments WHERE id = :comment', describe: 'delete {comment}', weight: 2, mustAccept: true },
    { name: 'move', sql: 'UPDATE comments SET post_id = :post WHERE id = :comment', describe: 'move {comment} to {post}', weight: 2, mustAccept: true },
    { name: 'post', sql: 'INSERT INTO posts (id, title) VALUES (:post, :title)', describe: 'insert {post}', weight: 1, mustAccept: true },
    // Deleting a post takes its comments with it: no refusal is legitimate.
    { name: 'unpost', sql: 'DELETE FROM posts WHERE id = :post', describe: 'delete {post} and its comments', weight: 1, mustAccept: 'always' },
  ],
  invariant:
    'SELECT p.id AS post, p.comment_count, n.comments FROM posts p ' +
    'CROSS JOIN LATERAL (SELECT count(*)::int AS comments FROM comments c WHERE c.post_id = p.id) n WHERE p.comment_count IS DISTINCT FROM n.comments',
  tables: ['posts', 'comments'],
  columns: { posts: ['comment_count'], comments: ['post_id'] },
  setup: `${parentRows('posts', existing, (i) => ({ title: `Post ${i + 1}` }))}\n${firstComment}`,
  defaultSchema: ['../fixtures/comment-count-matches/reference.sql'],
  fixtures: '../fixtures/comment-count-matches',
});
