-- The database's own ceiling for a reservation on one hot ticket type:
-- lock the row, insert an order and its item, commit (pgbench custom script).
\set n random(1, 2000000000)
BEGIN;
SELECT capacity, sold FROM ticket_types WHERE id = :tt FOR UPDATE;
INSERT INTO orders (event_id, token, email, currency, status, expires_at, payment_pending, created_at, updated_at)
  VALUES (:ev, md5(random()::text || clock_timestamp()::text), 'pgbench' || :n || '@bench.test', 'EUR', 'reserved',
          now() + interval '15 minutes', false, now(), now())
  RETURNING id AS order_id \gset
INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price) VALUES (:order_id, :tt, 1, 2500);
COMMIT;
