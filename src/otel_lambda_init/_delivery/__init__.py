"""How spans leave the sandbox: one delivery policy for every trigger, the bounded flush,
and the internal extension that exports after the caller has its response."""
