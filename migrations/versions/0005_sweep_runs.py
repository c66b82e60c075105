"""Sweep runs: when the expiry sweep ran and how much it expired (operators' /healthz).

Revision ID: 0005_sweep_runs
Revises: 0004_pending_payment_limit
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_sweep_runs'
down_revision = '0004_pending_payment_limit'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sweep_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expired', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep_runs')),
    )
    with op.batch_alter_table('sweep_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sweep_runs_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sweep_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sweep_runs_started_at'))
    op.drop_table('sweep_runs')
