-- The client-id index goes. Client ids sort in no useful order, so each new id went to a random page of this
-- index, and writing those pages to the log was about a third of what an agent turn wrote. The writer now keeps
-- the ids of the conversations it appends to in memory (read from this table on a conversation's first Append
-- with ids) and checks every hit against the message stored at that position. Uniqueness of ids within a
-- conversation is kept by the writer, the only one that writes messages.
DROP INDEX messages_by_client_id;
