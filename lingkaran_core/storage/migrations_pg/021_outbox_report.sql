-- 021: the console's "messages sent / delivered / read" report (report_repo.messages_by_key)
-- counts outbox rows by class, key, channel, status and delivery status. Without an index it
-- reads the whole table, params and all, and sorts it for the GROUP BY. This index holds
-- exactly those columns in that order, plus chat_id for a viewer's kecamatan join: the report
-- reads the index alone, already in group order, and skips the replies (class 'reply').
CREATE INDEX outbox_report ON outbox(class, msg_key, channel, status, delivery_status, chat_id);
