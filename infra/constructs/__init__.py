"""One construct per concern: keys, data, audit store, messaging, identity, observability."""
