"""How long a failed obligation waits before it is tried again."""
from datetime import timedelta

from eventsite.domain.obligations import LAST_RETRY, retry_delay


def test_retries_back_off_from_ten_seconds_to_an_hour():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert retry_delay(30) == LAST_RETRY == timedelta(hours=1)
