"""Sessions that end at logout, and accounts (issue 13).

Revision ID: 0009_sessions_and_accounts
Revises: 0008_hoarding_limits
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_sessions_and_accounts'
down_revision = '0008_hoarding_limits'
branch_labels = None
depends_on = None

# The kinds as 0007 left them, and the sign-up messages added here.
_OLD_KINDS = ('expire_session', 'refund_payment', 'refund_anomaly', 'email_hold_placed', 'email_paid',
              'email_late_paid', 'email_refunded', 'email_payment_failed', 'email_find_tickets')
_NEW_KINDS = _OLD_KINDS + ('email_signup_welcome', 'email_signup_existing')


def _kinds(kinds):
    return sa.Enum(*kinds, name='obligation_kind', native_enum=False, create_constraint=True, length=40)


def upgrade():
    with op.batch_alter_table('organizers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_kinds(_OLD_KINDS), type_=_kinds(_NEW_KINDS),
                              existing_nullable=False)


def downgrade():
    op.execute("DELETE FROM obligations WHERE kind IN ('email_signup_welcome', 'email_signup_existing')")
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_kinds(_NEW_KINDS), type_=_kinds(_OLD_KINDS),
                              existing_nullable=False)
    with op.batch_alter_table('organizers', schema=None) as batch_op:
        batch_op.drop_column('session_version')
