-- Full-text search of messages (Search). What is searched is the text of each message's JSON string values (not
-- keys, numbers or punctuation), cut into words by FTS5's unicode61 tokenizer (letters, digits and private-use
-- characters; case folded, diacritics kept so that every backend finds the same words; see
-- io.vmpilot.conversation.server.store.SearchText). Each row's rowid is its message's rowid.
-- Contentless (the words are indexed, the text not kept a second time: snippets are made from messages.json), which
-- made the index about a fifth of the messages' size instead of as large again (2 KB agent messages), and
-- contentless_delete so that rows can be deleted by rowid (SQLite 3.43 or later; sqlite-jdbc bundles it).
CREATE VIRTUAL TABLE message_text USING fts5(body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0');

-- Triggers keep the index in the transaction that changes the messages, whichever statement does it (an insert, a
-- Fork's INSERT ... SELECT, a Save's truncation, the cascade of a Clear). Messages are never updated in place.
-- json_valid first: a message nested deeper than SQLite's JSON functions parse (1000 levels; the server's
-- --max-json-depth may allow more) is stored all the same, without words (json_tree would fail the write).
CREATE TRIGGER message_text_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_text (rowid, body)
    VALUES (new.rowid, CASE WHEN json_valid(new.json) THEN
      (SELECT group_concat(value, char(10)) FROM json_tree(new.json) WHERE type = 'text') END);
END;

CREATE TRIGGER message_text_delete AFTER DELETE ON messages BEGIN
  DELETE FROM message_text WHERE rowid = old.rowid;
END;

-- The messages already stored. A row that is not valid JSON (only a file changed outside the server holds one)
-- is left out rather than failing the migration.
INSERT INTO message_text (rowid, body)
  SELECT rowid, (SELECT group_concat(value, char(10)) FROM json_tree(messages.json) WHERE type = 'text')
    FROM messages
   WHERE json_valid(json);
