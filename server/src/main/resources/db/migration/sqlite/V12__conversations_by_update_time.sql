-- The retention sweep ([retention] max_idle) finds the conversations not updated for longest by this index, so a
-- batch reads only the rows it deletes instead of the whole table.
CREATE INDEX conversations_by_update_time ON conversations (update_time);
