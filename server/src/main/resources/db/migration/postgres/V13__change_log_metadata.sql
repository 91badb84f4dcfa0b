-- Watch's metadata filter (WatchRequest.metadata_filter) is matched against the conversation's metadata as it was
-- at each change, so that a resumed watch selects the entries the first one did: each entry records it.
-- metadata: a JSON object of strings, the conversation's metadata right after the change (for a Clear, what it had
-- when deleted); NULL for none, and for the entries logged before this column existed (they match no filter).
-- metadata_before: the same right before a change that may have changed it (a Save that set keys, an
-- UpdateMetadata, an Import that replaced a conversation); NULL when the change left it as it was.
ALTER TABLE change_log ADD COLUMN metadata text;
ALTER TABLE change_log ADD COLUMN metadata_before text;
