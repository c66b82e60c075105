"""Use cases: each public function is one thing a buyer, organizer, webhook or job does."""
