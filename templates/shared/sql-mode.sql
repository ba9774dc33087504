{%- comment -%}
The first statement of every MySQL-family SQL file dbtls renders. String literals escape backslashes
(the sql filter writes '\\' for one "\", as in a subject like /L=back\slash): a server running with
NO_BACKSLASH_ESCAPES would read that as two and store another name. The statement itself holds no
backslash, so either mode parses it the same way.
{%- endcomment -%}
-- Backslashes in the literals below are escaped ('\\' is one "\"): the session drops NO_BACKSLASH_ESCAPES first.
SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','));
