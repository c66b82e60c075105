"""The waiting room for on-sales (issue 16).

Revision ID: 0011_waiting_room
Revises: 0010_waiting_list
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_waiting_room'
down_revision = '0010_waiting_list'
branch_labels = None
depends_on = None

_PLACED = sa.text("room_place IS NOT NULL")
_OLD_STATUSES = ('waiting', 'offered', 'left', 'closed')
_NEW_STATUSES = _OLD_STATUSES + ('deferred',)  # from a waiting room: joins the line when the room sells out


def _statuses(statuses):
    return sa.Enum(*statuses, name='waitlist_status', native_enum=False, create_constraint=True, length=10)


def upgrade():
    op.create_table(
        'waiting_rooms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('opens_minutes_before', sa.Integer(), nullable=False),
        sa.Column('admission_minutes', sa.Integer(), nullable=False),
        sa.Column('admissions_per_minute', sa.Integer(), nullable=False),
        sa.Column('stock_multiple', sa.Integer(), nullable=False),
        sa.Column('seed', sa.String(length=64), nullable=False),
        sa.Column('seed_hash', sa.String(length=64), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_reason', sa.String(length=20), nullable=True),
        sa.Column('report', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('opens_minutes_before BETWEEN 1 AND 1440',
                           name=op.f('ck_waiting_rooms_opens_minutes_before_range')),
        sa.CheckConstraint('admission_minutes BETWEEN 1 AND 60', name=op.f('ck_waiting_rooms_admission_minutes_range')),
        sa.CheckConstraint('admissions_per_minute BETWEEN 1 AND 100000',
                           name=op.f('ck_waiting_rooms_admissions_per_minute_range')),
        sa.CheckConstraint('stock_multiple BETWEEN 1 AND 20', name=op.f('ck_waiting_rooms_stock_multiple_range')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_waiting_rooms_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_waiting_rooms')),
        sa.UniqueConstraint('event_id', name=op.f('uq_waiting_rooms_event_id')),
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_place', sa.Integer(), nullable=True))
        batch_op.create_index('ix_orders_room_place', ['event_id', 'room_place'], unique=True,
                              postgresql_where=_PLACED, sqlite_where=_PLACED)
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_statuses(_OLD_STATUSES), type_=_statuses(_NEW_STATUSES),
                              existing_nullable=False)


def downgrade():
    op.execute("UPDATE waitlist_entries SET status = 'closed' WHERE status = 'deferred'")
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_statuses(_NEW_STATUSES), type_=_statuses(_OLD_STATUSES),
                              existing_nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_room_place', postgresql_where=_PLACED, sqlite_where=_PLACED)
        batch_op.drop_column('room_place')
    op.drop_table('waiting_rooms')
