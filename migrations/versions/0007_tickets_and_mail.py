"""Check-ins at the door, and messages to buyers as obligations.

Revision ID: 0007_tickets_and_mail
Revises: 0006_event_currency
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_tickets_and_mail'
down_revision = '0006_event_currency'
branch_labels = None
depends_on = None

_OLD_KINDS = ('expire_session', 'refund_payment', 'refund_anomaly')
_NEW_KINDS = _OLD_KINDS + ('email_hold_placed', 'email_paid', 'email_late_paid', 'email_refunded',
                           'email_payment_failed', 'email_find_tickets')


def _kinds(kinds):
    return sa.Enum(*kinds, name='obligation_kind', native_enum=False, create_constraint=True, length=40)


def upgrade():
    op.create_table(
        'checkins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('seat', sa.Integer(), nullable=False),
        sa.Column('ticket_type_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('device', sa.String(length=100), nullable=False),
        sa.Column('by', sa.String(length=254), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_by', sa.String(length=254), nullable=True),
        sa.CheckConstraint('seat >= 1', name=op.f('ck_checkins_seat_positive')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_checkins_event_id_events')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_checkins_order_id_orders')),
        sa.ForeignKeyConstraint(['ticket_type_id'], ['ticket_types.id'],
                                name=op.f('fk_checkins_ticket_type_id_ticket_types')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_checkins_seat_in_force', ['order_id', 'seat'], unique=True,
                              postgresql_where=sa.text('undone_at IS NULL'),
                              sqlite_where=sa.text('undone_at IS NULL'))
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sa.String(length=254), nullable=True))
        batch_op.alter_column('kind', existing_type=_kinds(_OLD_KINDS), type_=_kinds(_NEW_KINDS),
                              existing_nullable=False)


def downgrade():
    op.execute("DELETE FROM obligations WHERE kind LIKE 'email_%'")
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_kinds(_NEW_KINDS), type_=_kinds(_OLD_KINDS),
                              existing_nullable=False)
        batch_op.drop_column('recipient')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_seat_in_force', postgresql_where=sa.text('undone_at IS NULL'),
                            sqlite_where=sa.text('undone_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_checkins_event_id'))
    op.drop_table('checkins')
