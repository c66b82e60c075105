"""The currency belongs to the event, and each order keeps the one it was placed in;
the event also names the locale its amounts are written for.

Existing data: an event takes its first ticket type's currency (an event whose types
had different currencies is logged: its other prices stay as stored), and each order
the currency its first ticket type had, which is what it was charged in.

Revision ID: 0006_event_currency
Revises: 0005_sweep_runs
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0006_event_currency'
down_revision = '0005_sweep_runs'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))
        batch_op.add_column(sa.Column('locale', sa.String(length=35), server_default='en', nullable=False))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
    bind = op.get_bind()
    mixed = bind.execute(sa.text(
        "SELECT event_id FROM ticket_types GROUP BY event_id HAVING COUNT(DISTINCT currency) > 1")).scalars().all()
    if mixed:
        log.warning("events %s had ticket types in several currencies; each now uses its first type's", mixed)
    op.execute("UPDATE events SET currency = COALESCE((SELECT t.currency FROM ticket_types t "
               "WHERE t.event_id = events.id ORDER BY t.id LIMIT 1), 'EUR')")
    op.execute("UPDATE orders SET currency = COALESCE((SELECT t.currency FROM order_items i "
               "JOIN ticket_types t ON t.id = i.ticket_type_id WHERE i.order_id = orders.id "
               "ORDER BY t.id LIMIT 1), (SELECT e.currency FROM events e WHERE e.id = orders.event_id))")
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('currency', existing_type=sa.String(length=3), nullable=False)
    with op.batch_alter_table('ticket_types', schema=None) as batch_op:
        batch_op.drop_column('currency')


def downgrade():
    with op.batch_alter_table('ticket_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
    op.execute("UPDATE ticket_types SET currency = (SELECT e.currency FROM events e WHERE e.id = ticket_types.event_id)")
    with op.batch_alter_table('ticket_types', schema=None) as batch_op:
        batch_op.alter_column('currency', existing_type=sa.String(length=3), nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('currency')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('locale')
        batch_op.drop_column('currency')
