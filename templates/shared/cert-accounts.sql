{%- comment -%}
The accounts of users.sql (MySQL, Percona and MariaDB accept the same statements): every client and
every replica of this node logs in with its certificate, REQUIRE SUBJECT … AND ISSUER ….
{%- endcomment %}
{% include 'shared/sql-mode.sql' -%}
{% if clients.size == 0 and replicas.size == 0 -%}

-- Nothing to create: the inventory has no clients and no node replicates from {{ node.name | strip_newlines }}.
{% endif -%}
{% for c in clients -%}

-- client {{ c.name | strip_newlines }}
CREATE USER IF NOT EXISTS {{ c.account.user | sql }}@'%' REQUIRE SUBJECT {{ c.account.subject | sql }} AND ISSUER {{ c.account.issuer | sql }};
ALTER USER {{ c.account.user | sql }}@'%' REQUIRE SUBJECT {{ c.account.subject | sql }} AND ISSUER {{ c.account.issuer | sql }};
{% endfor -%}
{% for r in replicas -%}

-- replication account {{ r.user | strip_newlines }} (for a replica of {{ node.name | strip_newlines }})
CREATE USER IF NOT EXISTS {{ r.user | sql }}@'%' REQUIRE SUBJECT {{ r.subject | sql }} AND ISSUER {{ r.issuer | sql }};
ALTER USER {{ r.user | sql }}@'%' REQUIRE SUBJECT {{ r.subject | sql }} AND ISSUER {{ r.issuer | sql }};
GRANT REPLICATION SLAVE ON *.* TO {{ r.user | sql }}@'%';
{% endfor -%}
