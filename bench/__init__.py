"""`make bench`: the ticket rush, a waiting room's on-sale, availability polling at a million orders, and the sweep."""
