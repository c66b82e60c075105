"""Anti-hoarding limits per event (issue 13).

Revision ID: 0008_hoarding_limits
Revises: 0007_tickets_and_mail
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_hoarding_limits'
down_revision = '0007_tickets_and_mail'
branch_labels = None
depends_on = None

_CANCELLED = sa.text("status = 'cancelled'")


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_holds_per_client', sa.Integer(), server_default=sa.text('4'),
                                      nullable=False))
        batch_op.add_column(sa.Column('release_cooldown_seconds', sa.Integer(), server_default=sa.text('60'),
                                      nullable=False))
        batch_op.create_check_constraint('max_holds_per_client_not_negative', 'max_holds_per_client >= 0')
        batch_op.create_check_constraint('release_cooldown_seconds_range',
                                         'release_cooldown_seconds BETWEEN 0 AND 86400')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_address', sa.String(length=45), nullable=True))
        batch_op.create_index('ix_orders_cancelled_by_event', ['event_id', 'updated_at'], unique=False,
                              postgresql_where=_CANCELLED, sqlite_where=_CANCELLED)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_cancelled_by_event', postgresql_where=_CANCELLED, sqlite_where=_CANCELLED)
        batch_op.drop_column('client_address')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint('release_cooldown_seconds_range', type_='check')
        batch_op.drop_constraint('max_holds_per_client_not_negative', type_='check')
        batch_op.drop_column('release_cooldown_seconds')
        batch_op.drop_column('max_holds_per_client')
