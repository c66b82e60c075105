"""Obligations (work promised for later: close a checkout session, refund) and payment
anomalies (signed events that did not match their order), kept in the database.

Revision ID: 0003_obligations
Revises: 0002_sweep_index
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_obligations'
down_revision = '0002_sweep_index'
branch_labels = None
depends_on = None

PENDING = sa.text("done_at IS NULL")


def upgrade():
    op.create_table(
        'payment_anomalies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('session_id', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
        sa.Column('refund_id', sa.String(length=255), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_anomalies_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_anomalies')),
    )
    with op.batch_alter_table('payment_anomalies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_anomalies_order_id'), ['order_id'], unique=False)
    op.create_table(
        'obligations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.Enum('expire_session', 'refund_payment', 'refund_anomaly', name='obligation_kind',
                                  native_enum=False, create_constraint=True, length=40), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('anomaly_id', sa.Integer(), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_obligations_order_id_orders')),
        sa.ForeignKeyConstraint(['anomaly_id'], ['payment_anomalies.id'],
                                name=op.f('fk_obligations_anomaly_id_payment_anomalies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_obligations')),
        sa.UniqueConstraint('key', name=op.f('uq_obligations_key')),
    )
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_obligations_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_obligations_pending_by_due', ['due_at'], unique=False,
                              postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_pending_by_due', postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.drop_index(batch_op.f('ix_obligations_order_id'))
    op.drop_table('obligations')
    with op.batch_alter_table('payment_anomalies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_anomalies_order_id'))
    op.drop_table('payment_anomalies')
