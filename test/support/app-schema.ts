// An application-like MariaDB schema of about 300 tables, the kind a DBA dumps with
// mariadb-dump: a hand-written core (accounts, a category tree whose rows point at later rows,
// orders, posts with a FULLTEXT index, stores with a SPATIAL index, partitioned tables, triggers,
// views, routines, an event, a CHECK, a 63-byte table name) and 280 generated module tables
// whose foreign keys point forward in the dump's alphabetical order. Index, foreign key and
// constraint names are MySQL's longest (64 bytes), and those of one table differ only in their
// last byte. Many DATE/DATETIME/TIMESTAMP NOT NULL columns default to MySQL's zero date, and
// rows hold it (the statements need sql_mode '').
//
// `skipped` lists what the target cannot have, by kind and as `check --json` names each entry
// of target.skipped_objects ("table.object", or "object" for views, routines and events, after
// the schema): it is derived from the same definitions as the statements.

interface AppSchema {
  /** Statements in an order that MariaDB accepts with FOREIGN_KEY_CHECKS=0 and sql_mode ''. */
  statements: string[];
  /** Objects the target does not get: their kind, and their name as check --json gives it (without the schema). */
  skipped: Array<{ kind: string; object: string }>;
  /** MariaDB JSON columns, "table.column": jsonb on the target. */
  json: string[];
  /** Base tables (not views). */
  tables: string[];
}

const ZERO_DT = "'0000-00-00 00:00:00'";
const ZERO_D = "'0000-00-00'";

/** A 64-byte name: `base` padded; `last` is its 64th byte, so that names differ only there. */
const long64 = (base: string, last = "x") => `${base}_`.padEnd(63, "x").slice(0, 63) + last;

/** 63 bytes, the target's limit: kept as it is. */
const LONG_TABLE = "loyalty_membership_tier_history_by_customer_and_calendar_months";
const LONG_COLUMN = "points_earned_through_purchases_referrals_and_promotional_bonus";

const MODULES = ["billing", "catalog", "crm", "forum", "hr", "inventory", "logistics", "marketing", "payroll", "reports", "shipping", "support", "warehouse", "wiki"];
const ENTITIES = [
  "agents",
  "batches",
  "contacts",
  "documents",
  "entries",
  "files",
  "groups",
  "items",
  "jobs",
  "labels",
  "lines",
  "logs",
  "notes",
  "periods",
  "queues",
  "rules",
  "tags",
  "tasks",
  "types",
  "votes",
];
const LEVELS = 4;
const ROWS = 4;

/** `dialect`: openGauss partitions what it can partition exactly, so fewer objects are skipped there. */
export function appSchema(dialect: "opengauss" | "postgresql"): AppSchema {
  const out: AppSchema = { statements: [], skipped: [], tables: [], json: [] };
  core(out, dialect);
  modules(out);
  return out;
}

function table(out: AppSchema, name: string, body: string[], options = "", rows: string[] = []): void {
  out.tables.push(name);
  out.statements.push(`CREATE TABLE ${name} (\n  ${body.join(",\n  ")}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4${options}`);
  if (rows.length > 0) out.statements.push(`INSERT INTO ${name} VALUES ${rows.join(", ")}`);
}

function core(out: AppSchema, dialect: "opengauss" | "postgresql"): void {
  const fk = (child: string, parent: string) => long64(`fk_${child}_${parent}`);
  table(
    out,
    "accounts",
    [
      "id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "email VARCHAR(190) NOT NULL",
      "display_name VARCHAR(100) NOT NULL DEFAULT ''",
      "status ENUM('active','suspended','closed') NOT NULL DEFAULT 'active'",
      `registered DATETIME NOT NULL DEFAULT ${ZERO_DT}`,
      `last_login TIMESTAMP NOT NULL DEFAULT ${ZERO_DT}`,
      `birthday DATE NOT NULL DEFAULT ${ZERO_D}`,
      `UNIQUE KEY ${long64("uk_accounts_email_address_for_login_and_password_reset")} (email)`,
      `KEY ${long64("idx_accounts_status_and_registration_for_admin_lists", "1")} (status, registered)`,
      `KEY ${long64("idx_accounts_status_and_registration_for_admin_lists", "2")} (registered, status)`,
    ],
    "",
    [1, 2, 3, 4, 5].map(
      (i) =>
        `(${i}, 'user${i}@example.com', 'User ${i}', '${i === 3 ? "suspended" : "active"}', ${i % 2 ? ZERO_DT : `'2024-0${i}-0${i} 1${i}:00:00'`}, ${i === 1 ? ZERO_DT : `'2025-01-0${i} 08:00:00'`}, ${i < 3 ? ZERO_D : `'199${i}-0${i}-1${i}'`})`,
    ),
  );
  table(
    out,
    "addresses",
    [
      "id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "account_id INT UNSIGNED NOT NULL",
      "line1 VARCHAR(200) NOT NULL",
      "city VARCHAR(100) NOT NULL",
      `CONSTRAINT ${fk("addresses", "accounts")} FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE`,
    ],
    "",
    [1, 2, 3, 4].map((i) => `(${i}, ${i}, '${i} Main St', 'Town ${i}')`),
  );
  // A tree whose rows point at later rows: parent ids above their children's, as a tree
  // rebuilt by an application ends up; MySQL loads it only with FOREIGN_KEY_CHECKS=0.
  table(
    out,
    "categories",
    [
      "id INT NOT NULL PRIMARY KEY",
      "parent_id INT NULL",
      "name VARCHAR(80) NOT NULL",
      `CONSTRAINT ${fk("categories", "categories")} FOREIGN KEY (parent_id) REFERENCES categories (id) ON DELETE SET NULL`,
    ],
    "",
    [...Array(30).keys()].map((k) => `(${k + 1}, ${k + 1 < 30 ? Math.floor((k + 32) / 2) : "NULL"}, 'category ${k + 1}')`),
  );
  table(
    out,
    "products",
    [
      "id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "category_id INT NOT NULL",
      "sku VARCHAR(40) NOT NULL",
      "title VARCHAR(200) NOT NULL",
      "price DECIMAL(10,2) NOT NULL DEFAULT '0.00'",
      "stock INT NOT NULL DEFAULT 0",
      "version INT NOT NULL DEFAULT 0",
      `added DATETIME NOT NULL DEFAULT ${ZERO_DT}`,
      `UNIQUE KEY ${long64("uk_products_stock_keeping_unit_as_printed_on_the_label")} (sku)`,
      `CONSTRAINT ${fk("products", "categories")} FOREIGN KEY (category_id) REFERENCES categories (id)`,
      `CONSTRAINT ${long64("ck_products_stock_never_negative_even_after_returns")} CHECK (stock >= 0)`,
    ],
    "",
    [1, 2, 3, 4, 5, 6].map((i) => `(${i}, ${i * 4}, 'SKU-${i}', 'Product ${i}', ${i}9.90, ${i * 10}, 0, ${i % 3 ? ZERO_DT : "'2023-11-11 11:11:11'"})`),
  );
  out.skipped.push({ kind: "check", object: `products.${long64("ck_products_stock_never_negative_even_after_returns")}` });
  table(
    out,
    "orders",
    [
      "id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "account_id INT UNSIGNED NOT NULL",
      `placed DATETIME NOT NULL DEFAULT ${ZERO_DT}`,
      `shipped DATE NOT NULL DEFAULT ${ZERO_D}`,
      "total DECIMAL(12,2) NOT NULL DEFAULT '0.00'",
      `KEY ${long64("idx_orders_placed_for_the_monthly_revenue_report_query")} (placed)`,
      `CONSTRAINT ${fk("orders", "accounts")} FOREIGN KEY (account_id) REFERENCES accounts (id)`,
    ],
    "",
    [1, 2, 3, 4, 5].map((i) => `(${i}, ${(i % 4) + 1}, ${i === 2 ? ZERO_DT : `'2024-1${i % 3}-0${i} 09:30:00'`}, ${i < 4 ? ZERO_D : `'2024-12-0${i}'`}, ${i * 21}.50)`),
  );
  // order_items sorts before orders and products: both of its keys point forward.
  table(
    out,
    "order_items",
    [
      "order_id INT UNSIGNED NOT NULL",
      "product_id INT UNSIGNED NOT NULL",
      "qty INT NOT NULL",
      "price DECIMAL(10,2) NOT NULL",
      "PRIMARY KEY (order_id, product_id)",
      `CONSTRAINT ${fk("order_items", "orders")} FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE`,
      `CONSTRAINT ${fk("order_items", "products")} FOREIGN KEY (product_id) REFERENCES products (id)`,
    ],
    "",
    [1, 2, 3, 4, 5].flatMap((o) => [1, 2].map((k) => `(${o}, ${((o + k) % 6) + 1}, ${k}, ${o + k}.25)`)),
  );
  table(
    out,
    "audit_log",
    [
      "id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "table_name VARCHAR(64) NOT NULL",
      "row_id BIGINT NOT NULL",
      "action VARCHAR(16) NOT NULL",
      `logged DATETIME NOT NULL DEFAULT ${ZERO_DT}`,
    ],
    "",
    [`(1, 'orders', 1, 'insert', ${ZERO_DT})`],
  );
  const fulltext = long64("ft_posts_title_and_body_for_the_site_search_box_widget");
  table(
    out,
    "posts",
    [
      "id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "author_id INT UNSIGNED NOT NULL",
      "title VARCHAR(200) NOT NULL",
      "body MEDIUMTEXT NOT NULL",
      `published DATETIME NOT NULL DEFAULT ${ZERO_DT}`,
      `FULLTEXT KEY ${fulltext} (title, body)`,
      `CONSTRAINT ${fk("posts", "accounts")} FOREIGN KEY (author_id) REFERENCES accounts (id)`,
    ],
    "",
    [1, 2, 3].map((i) => `(${i}, ${i}, 'Post ${i}', 'Body of post ${i}, with some words.', ${i === 3 ? ZERO_DT : `'2024-02-0${i} 12:00:00'`})`),
  );
  out.skipped.push({ kind: "index", object: `posts.${fulltext}` });
  // comments sorts before posts: its first key points forward.
  table(
    out,
    "comments",
    [
      "id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "post_id INT UNSIGNED NOT NULL",
      "author_id INT UNSIGNED NULL",
      "body TEXT NOT NULL",
      `created TIMESTAMP NOT NULL DEFAULT ${ZERO_DT}`,
      `CONSTRAINT ${fk("comments", "posts")} FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE`,
      `CONSTRAINT ${fk("comments", "accounts")} FOREIGN KEY (author_id) REFERENCES accounts (id) ON DELETE SET NULL`,
    ],
    "",
    [1, 2, 3, 4, 5, 6].map((i) => `(${i}, ${(i % 3) + 1}, ${i === 4 ? "NULL" : (i % 5) + 1}, 'comment ${i}', ${i % 2 ? ZERO_DT : `'2024-03-0${i} 07:00:00'`})`),
  );
  const spatial = long64("sp_stores_location_for_the_nearest_store_finder_page");
  table(
    out,
    "stores",
    [
      "id INT UNSIGNED NOT NULL PRIMARY KEY",
      "name VARCHAR(100) NOT NULL",
      "location POINT NOT NULL",
      `opened DATE NOT NULL DEFAULT ${ZERO_D}`,
      `SPATIAL INDEX ${spatial} (location)`,
    ],
    "",
    [1, 2, 3].map((i) => `(${i}, 'Store ${i}', ST_GeomFromText('POINT(${i}.5 ${50 + i})'), ${i === 2 ? ZERO_D : `'2020-0${i}-01'`})`),
  );
  out.skipped.push({ kind: "index", object: `stores.${spatial}` });
  // MySQL's zero date in a primary key (the target stores it as -infinity there).
  table(out, "store_days", ["store_id INT UNSIGNED NOT NULL", `day DATE NOT NULL DEFAULT ${ZERO_D}`, "visitors INT NOT NULL DEFAULT 0", "PRIMARY KEY (store_id, day)"], "", [
    `(1, ${ZERO_D}, 5)`,
    "(1, '2024-01-02', 7)",
    `(2, ${ZERO_D}, 3)`,
  ]);
  partitioned(out, dialect);
  table(
    out,
    LONG_TABLE,
    [
      "id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
      "account_id INT UNSIGNED NOT NULL",
      `${LONG_COLUMN} INT NOT NULL DEFAULT 0`,
      `month_start DATE NOT NULL DEFAULT ${ZERO_D}`,
      `UNIQUE KEY ${long64("uk_loyalty_history_one_row_per_account_and_month")} (account_id, month_start)`,
      `CONSTRAINT ${fk("loyalty", "accounts")} FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE`,
    ],
    "",
    [1, 2, 3].map((i) => `(${i}, ${i}, ${i * 100}, ${i === 1 ? ZERO_D : `'2024-0${i}-01'`})`),
  );
  code(out);
}

function partitioned(out: AppSchema, dialect: "opengauss" | "postgresql"): void {
  table(
    out,
    "event_log",
    ["id BIGINT UNSIGNED NOT NULL PRIMARY KEY", `happened DATETIME NOT NULL DEFAULT ${ZERO_DT}`, "message VARCHAR(255) NOT NULL"],
    " PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (1000), PARTITION p1 VALUES LESS THAN (2000), PARTITION pmax VALUES LESS THAN MAXVALUE)",
    [1, 1500, 2500].map((i) => `(${i}, ${i === 1 ? ZERO_DT : "'2024-06-01 00:00:00'"}, 'event ${i}')`),
  );
  table(
    out,
    "sessions",
    ["id INT UNSIGNED NOT NULL PRIMARY KEY", "account_id INT UNSIGNED NOT NULL", `started TIMESTAMP NOT NULL DEFAULT ${ZERO_DT}`, "data BLOB"],
    " PARTITION BY HASH (id) PARTITIONS 4",
    [1, 2, 3, 4, 5].map((i) => `(${i}, ${i}, ${i % 2 ? ZERO_DT : "'2024-07-07 07:07:07'"}, X'00ff${i}0')`),
  );
  table(
    out,
    "page_views",
    ["id BIGINT UNSIGNED NOT NULL", "viewed DATE NOT NULL", "path VARCHAR(255) NOT NULL", "PRIMARY KEY (id, viewed)"],
    " PARTITION BY RANGE (YEAR(viewed)) (PARTITION y2023 VALUES LESS THAN (2024), PARTITION y2024 VALUES LESS THAN (2025), PARTITION ymax VALUES LESS THAN MAXVALUE)",
    ["(1, '2023-03-03', '/')", "(2, '2024-05-05', '/about')", "(3, '2025-01-01', '/shop')"],
  );
  table(
    out,
    "cache_entries",
    ["cache_key VARCHAR(100) NOT NULL PRIMARY KEY", "value MEDIUMBLOB", `expires DATETIME NOT NULL DEFAULT ${ZERO_DT}`],
    " PARTITION BY KEY () PARTITIONS 3",
    [`('home', X'cafe', ${ZERO_DT})`, "('menu', NULL, '2030-01-01 00:00:00')"],
  );
  table(
    out,
    "delivery_zones",
    ["id INT NOT NULL PRIMARY KEY", "name VARCHAR(60) NOT NULL"],
    " PARTITION BY LIST (id) (PARTITION europe VALUES IN (1, 2, 3), PARTITION america VALUES IN (4, 5, 6))",
    ["(1, 'north')", "(4, 'east')"],
  );
  // event_log's BIGINT UNSIGNED is numeric(20) on the target, not an integer type; LIST on
  // delivery_zones' INT key is an openGauss partitioned table.
  const plain = ["event_log.RANGE", "sessions.HASH", "page_views.RANGE", "cache_entries.KEY", ...(dialect === "opengauss" ? [] : ["delivery_zones.LIST"])];
  for (const object of plain) out.skipped.push({ kind: "partitioning", object });
}

/** Triggers, views, routines and an event: mariadb-dump writes them all (with --routines --events). */
function code(out: AppSchema): void {
  const triggers: Array<[string, string, string]> = [
    [
      "orders",
      "trg_orders_audit_insert",
      "AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit_log (table_name, row_id, action, logged) VALUES ('orders', NEW.id, 'insert', NEW.placed)",
    ],
    ["products", long64("trg_products_bump_version_on_every_update_for_caches"), "BEFORE UPDATE ON products FOR EACH ROW SET NEW.version = OLD.version + 1"],
    [
      "comments",
      "trg_comments_audit_delete",
      "AFTER DELETE ON comments FOR EACH ROW INSERT INTO audit_log (table_name, row_id, action, logged) VALUES ('comments', OLD.id, 'delete', '2025-01-01 00:00:00')",
    ],
  ];
  for (const [on, name, body] of triggers) {
    out.statements.push(`CREATE TRIGGER ${name} ${body}`);
    out.skipped.push({ kind: "trigger", object: `${on}.${name}` });
  }
  const views: Array<[string, string]> = [
    ["v_active_accounts", "SELECT id, email FROM accounts WHERE status = 'active'"],
    ["v_catalog", "SELECT p.id, p.title, c.name AS category FROM products p JOIN categories c ON c.id = p.category_id"],
    ["v_order_totals", "SELECT o.id, o.account_id, SUM(i.qty * i.price) AS total FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.id, o.account_id"],
    // A view on a view: the dump creates a stand-in for v_order_totals first.
    ["v_big_orders", "SELECT id, total FROM v_order_totals WHERE total > 10"],
  ];
  for (const [name, select] of views) {
    out.statements.push(`CREATE VIEW ${name} AS ${select}`);
    out.skipped.push({ kind: "view", object: name });
  }
  out.statements.push(
    "CREATE PROCEDURE restock(IN p INT UNSIGNED, IN n INT) UPDATE products SET stock = stock + n WHERE id = p",
    "CREATE FUNCTION order_total(o INT UNSIGNED) RETURNS DECIMAL(12,2) DETERMINISTIC READS SQL DATA RETURN (SELECT COALESCE(SUM(qty * price), 0) FROM order_items WHERE order_id = o)",
    "CREATE EVENT purge_sessions ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM sessions WHERE started < '2020-01-01'",
  );
  out.skipped.push({ kind: "procedure", object: "restock" }, { kind: "function", object: "order_total" }, { kind: "event", object: "purge_sessions" });
}

/**
 * 14 modules × 20 entities. Entity e sits at level (e·7) mod 4; each entity below level 0
 * references one of its module's entities a level up (ON DELETE CASCADE), every third one also
 * a level-0 entity of the next module (forward in alphabetical order; SET NULL): levels are
 * scattered across the alphabet, so about half the keys point at a table the dump creates later.
 */
function modules(out: AppSchema): void {
  const level = (e: number) => (e * 7) % LEVELS;
  const at = (l: number) => ENTITIES.map((_, e) => e).filter((e) => level(e) === l);
  const name = (m: number, e: number) => `${MODULES[m % MODULES.length]}_${ENTITIES[e]}`;
  for (let m = 0; m < MODULES.length; m++) {
    for (let e = 0; e < ENTITIES.length; e++) {
      const t = name(m, e);
      const k = m * ENTITIES.length + e;
      const cols: Array<{ def: string; value: (r: number) => string }> = [
        // AUTO_INCREMENT on some: each is a sequence on the target, more files it keeps open.
        { def: `id INT UNSIGNED NOT NULL${k % 5 === 0 ? " AUTO_INCREMENT" : ""} PRIMARY KEY`, value: (r) => String(r) },
        { def: "name VARCHAR(80) NOT NULL DEFAULT ''", value: (r) => `'${t} ${r}'` },
      ];
      const keys: string[] = [];
      if (level(e) > 0) {
        const up = at(level(e) - 1);
        const parent = name(m, up[(e * 3 + m) % up.length]!);
        cols.push({ def: `${parent}_id INT UNSIGNED NOT NULL`, value: (r) => String(((r + k) % ROWS) + 1) });
        keys.push(`CONSTRAINT ${long64(`fk_${t}_${parent}`)} FOREIGN KEY (${parent}_id) REFERENCES ${parent} (id) ON DELETE CASCADE`);
        if (e % 3 === 0 && m + 1 < MODULES.length) {
          const other = name(m + 1, at(0)[e % at(0).length]!);
          cols.push({ def: `${other}_id INT UNSIGNED NULL`, value: (r) => (r === 2 ? "NULL" : String(((r * 3 + k) % ROWS) + 1)) });
          keys.push(`CONSTRAINT ${long64(`fk_${t}_${other}`)} FOREIGN KEY (${other}_id) REFERENCES ${other} (id) ON DELETE SET NULL`);
        }
      }
      if (k % 2 === 0) cols.push({ def: `created_at DATETIME NOT NULL DEFAULT ${ZERO_DT}`, value: (r) => (r % 2 ? ZERO_DT : `'2024-0${r}-1${r} 1${r}:0${r}:0${r}'`) });
      if (k % 3 === 0) cols.push({ def: `due_on DATE NOT NULL DEFAULT ${ZERO_D}`, value: (r) => (r === 1 ? ZERO_D : `'2025-0${r}-2${r}'`) });
      if (k % 5 === 0) cols.push({ def: `touched_at TIMESTAMP NOT NULL DEFAULT ${ZERO_DT}`, value: (r) => (r === 3 ? ZERO_DT : `'2024-1${r % 3}-0${r} 0${r}:00:00'`) });
      if (k % 4 === 1) cols.push({ def: "amount DECIMAL(12,2) NOT NULL DEFAULT '0.00'", value: (r) => `${k}.${r}5` });
      if (k % 3 === 1) cols.push({ def: "status ENUM('new','open','closed') NOT NULL DEFAULT 'new'", value: (r) => `'${["new", "open", "closed"][r % 3]}'` });
      if (k % 6 === 5) cols.push({ def: "is_active TINYINT(1) NOT NULL DEFAULT 1", value: (r) => String(r % 2) });
      if (k % 7 === 0) cols.push({ def: "body MEDIUMTEXT", value: (r) => (r === 4 ? "NULL" : `'text ${r} of ${t}'`) });
      if (k % 9 === 0) cols.push({ def: "payload BLOB", value: (r) => `X'0${r}ab'` });
      // JSON, which mariadb-dump writes as LONGTEXT … CHECK (json_valid(`attrs`)).
      if (k % 11 === 0) out.json.push(`${t}.attrs`);
      if (k % 11 === 0) cols.push({ def: "attrs JSON NULL", value: (r) => (r === 3 ? "NULL" : `'{"k": ${r}, "tags": ["a", "b"]}'`) });
      if (k % 10 === 3) cols.push({ def: "ratio DOUBLE NOT NULL DEFAULT 0", value: (r) => `${r}.5` });
      // Two indexes whose 64-byte names differ only in their last byte (on some tables: each index is files the target keeps open).
      if (k % 4 === 0)
        keys.push(`KEY ${long64(`idx_${t}_name_for_the_admin_search_screen`, "1")} (name)`, `KEY ${long64(`idx_${t}_name_for_the_admin_search_screen`, "2")} (name, id)`);
      const rows = [...Array(ROWS).keys()].map((i) => `(${cols.map((c) => c.value(i + 1)).join(", ")})`);
      table(out, t, [...cols.map((c) => c.def), ...keys], "", rows);
    }
  }
}
