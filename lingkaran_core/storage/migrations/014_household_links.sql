-- One phone, a whole household (issue 22): a chat holds several verified links, one row per
-- (chat, worker), each with the factor that proved it. chat_identity stays the chat's link
-- attempt in progress (pending link, desk and phone codes) and its inactivity clock;
-- chats.worker_id stays the chat's first (own) link, NULL exactly when the chat has no link.
CREATE TABLE chat_links (
    id             INTEGER PRIMARY KEY,
    chat_id        INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    worker_id      INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    factor         TEXT NOT NULL,          -- channel_phone | phone_code | kpj | kk | facilitator | legacy
    facilitator_id INTEGER REFERENCES facilitators(id),   -- who confirmed it in person (factor d)
    created_at     TEXT NOT NULL,
    UNIQUE (chat_id, worker_id)
);
CREATE INDEX chat_links_worker ON chat_links(worker_id);

-- Every chat linked today has exactly one verified link: chats.worker_id (since 009 it means
-- "verified"), with its proof from chat_identity when that row is about the same worker.
INSERT INTO chat_links (chat_id, worker_id, factor, created_at)
SELECT c.id, c.worker_id, COALESCE(ci.factor, 'legacy'), COALESCE(ci.verified_at, c.created_at)
FROM chats c
LEFT JOIN chat_identity ci
       ON ci.chat_id = c.id AND ci.worker_id = c.worker_id AND ci.verified_at IS NOT NULL
WHERE c.worker_id IS NOT NULL;
