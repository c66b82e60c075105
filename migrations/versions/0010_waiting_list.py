"""The waiting list and renewable holds (issue 15).

Revision ID: 0010_waiting_list
Revises: 0009_sessions_and_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_waiting_list'
down_revision = '0009_sessions_and_accounts'
branch_labels = None
depends_on = None

# The kinds as 0009 left them, and the waiting list's messages added here.
_OLD_KINDS = ('expire_session', 'refund_payment', 'refund_anomaly', 'email_hold_placed', 'email_paid',
              'email_late_paid', 'email_refunded', 'email_payment_failed', 'email_find_tickets',
              'email_signup_welcome', 'email_signup_existing')
_NEW_KINDS = _OLD_KINDS + ('email_waitlist_joined', 'email_offer', 'email_waitlist_closed')
_WAITING = sa.text("status = 'waiting'")


def _kinds(kinds):
    return sa.Enum(*kinds, name='obligation_kind', native_enum=False, create_constraint=True, length=40)


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_minutes', sa.Integer(), server_default=sa.text('10'), nullable=False))
        batch_op.add_column(sa.Column('waitlist_partial_offers', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.add_column(sa.Column('renewal_minutes', sa.Integer(), server_default=sa.text('5'), nullable=False))
        batch_op.add_column(sa.Column('max_renewals', sa.Integer(), server_default=sa.text('10'), nullable=False))
        batch_op.create_check_constraint('offer_minutes_range', 'offer_minutes BETWEEN 1 AND 1440')
        batch_op.create_check_constraint('renewal_minutes_range', 'renewal_minutes BETWEEN 1 AND 60')
        batch_op.create_check_constraint('max_renewals_range', 'max_renewals BETWEEN 0 AND 100')
    with op.batch_alter_table('ticket_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlist', sa.String(length=10), server_default='open', nullable=False))
        batch_op.create_check_constraint('waitlist_state', "waitlist IN ('open', 'paused', 'closed')")
    op.create_table(
        'waitlist_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('ticket_type_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('client_address', sa.String(length=45), nullable=True),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('waiting', 'offered', 'left', 'closed', name='waitlist_status',
                                    native_enum=False, create_constraint=True, length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_waitlist_entries_quantity_positive')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_waitlist_entries_event_id_events')),
        sa.ForeignKeyConstraint(['ticket_type_id'], ['ticket_types.id'],
                                name=op.f('fk_waitlist_entries_ticket_type_id_ticket_types')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries')),
        sa.UniqueConstraint('token', name=op.f('uq_waitlist_entries_token')),
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_waitlist_entries_waiting', ['ticket_type_id', 'id'], unique=False,
                              postgresql_where=_WAITING, sqlite_where=_WAITING)
        batch_op.create_index('ix_waitlist_entries_one_per_email', ['ticket_type_id', 'email'], unique=True,
                              postgresql_where=_WAITING, sqlite_where=_WAITING)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewals', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('waitlist_entry_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_orders_waitlist_entry_id'), ['waitlist_entry_id'])
        batch_op.create_foreign_key(batch_op.f('fk_orders_waitlist_entry_id_waitlist_entries'), 'waitlist_entries',
                                    ['waitlist_entry_id'], ['id'])
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_kinds(_OLD_KINDS), type_=_kinds(_NEW_KINDS),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('waitlist_entry_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_obligations_waitlist_entry_id'), ['waitlist_entry_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_obligations_waitlist_entry_id_waitlist_entries'),
                                    'waitlist_entries', ['waitlist_entry_id'], ['id'])


def downgrade():
    op.execute("DELETE FROM obligations WHERE kind IN ('email_waitlist_joined', 'email_offer', "
               "'email_waitlist_closed') OR waitlist_entry_id IS NOT NULL")
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_obligations_waitlist_entry_id_waitlist_entries'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_obligations_waitlist_entry_id'))
        batch_op.drop_column('waitlist_entry_id')
        batch_op.alter_column('kind', existing_type=_kinds(_NEW_KINDS), type_=_kinds(_OLD_KINDS),
                              existing_nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_waitlist_entry_id_waitlist_entries'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_orders_waitlist_entry_id'), type_='unique')
        batch_op.drop_column('waitlist_entry_id')
        batch_op.drop_column('renewals')
    op.drop_table('waitlist_entries')
    with op.batch_alter_table('ticket_types', schema=None) as batch_op:
        batch_op.drop_constraint('waitlist_state', type_='check')
        batch_op.drop_column('waitlist')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint('max_renewals_range', type_='check')
        batch_op.drop_constraint('renewal_minutes_range', type_='check')
        batch_op.drop_constraint('offer_minutes_range', type_='check')
        batch_op.drop_column('max_renewals')
        batch_op.drop_column('renewal_minutes')
        batch_op.drop_column('waitlist_partial_offers')
        batch_op.drop_column('offer_minutes')
