//! A WHERE clause built from validated filters, with numbered placeholders (`$1`, `$2`, …)
//! that both backends accept, and the arguments to bind in order.

#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// Escapes LIKE wildcards so user text matches literally; use with `ESCAPE '\\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A WHERE clause under construction; placeholders are numbered as arguments are added.
#[derive(Debug, Default, Clone)]
pub struct Where {
    clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Where {
    fn placeholder(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    pub fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let marks: Vec<String> = values
            .iter()
            .map(|v| self.placeholder(Arg::Text(v.clone())))
            .collect();
        self.clauses
            .push(format!("{column} IN ({})", marks.join(", ")));
    }

    pub fn any_of_int(&mut self, column: &str, values: &[i64]) {
        if values.is_empty() {
            return;
        }
        let marks: Vec<String> = values
            .iter()
            .map(|v| self.placeholder(Arg::Int(*v)))
            .collect();
        self.clauses
            .push(format!("{column} IN ({})", marks.join(", ")));
    }

    /// Case-insensitive "contains any of" on `column`. Both sides are folded by the
    /// database's own `lower()`, so they always agree: PostgreSQL folds every script,
    /// SQLite only ASCII (there "łukasz" does not find "Łukasz", but "Łukasz" does, and
    /// "muller" finds "MULLER").
    pub fn contains_any(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let parts: Vec<String> = values
            .iter()
            .map(|v| {
                let mark = self.placeholder(Arg::Text(format!("%{}%", escape_like(v))));
                format!("lower({column}) LIKE lower({mark}) ESCAPE '\\'")
            })
            .collect();
        self.clauses.push(format!("({})", parts.join(" OR ")));
    }

    /// `expr LIKE pattern` with user text escaped by [`escape_like`] in `pattern`.
    pub fn like(&mut self, expr: &str, pattern: String) {
        let mark = self.placeholder(Arg::Text(pattern));
        self.clauses.push(format!("{expr} LIKE {mark} ESCAPE '\\'"));
    }

    /// `outer IN (select WHERE column LIKE pattern)` without an ESCAPE clause, the form a
    /// SQLite full-text (trigram) table serves from its index; `pattern` must hold no
    /// wildcard the user typed.
    pub fn in_subquery_like(&mut self, outer: &str, select: &str, column: &str, pattern: String) {
        let mark = self.placeholder(Arg::Text(pattern));
        self.clauses
            .push(format!("{outer} IN ({select} WHERE {column} LIKE {mark})"));
    }

    /// The one rule for naming a lease, driver, vehicle or medallion in a filter: a purely
    /// numeric value matches the internal id exactly or a part of the business id; anything
    /// else a part of the business id (case-insensitive). A term shorter than 3 characters
    /// is too short to search by: a number of 1 or 2 digits is the internal id only (`1` is
    /// lease 1, not every lease or VIN holding a 1), other text matches the start of the
    /// business id. Several values: any of them.
    pub fn id_or_key_contains(&mut self, id_column: &str, key_column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let parts: Vec<String> = values
            .iter()
            .map(|v| {
                let v = v.trim();
                let short = v.chars().count() < 3;
                let id = v.parse::<i64>().ok();
                if let (Some(id), true) = (id, short) {
                    let mark = self.placeholder(Arg::Int(id));
                    return format!("{id_column} = {mark}");
                }
                let term = escape_like(&v.to_lowercase());
                let anywhere = if short { "" } else { "%" };
                let like = self.placeholder(Arg::Text(format!("{anywhere}{term}%")));
                let key = format!("lower({key_column}) LIKE {like} ESCAPE '\\'");
                match id {
                    Some(id) => {
                        let mark = self.placeholder(Arg::Int(id));
                        format!("({id_column} = {mark} OR {key})")
                    }
                    None => key,
                }
            })
            .collect();
        self.clauses.push(format!("({})", parts.join(" OR ")));
    }

    /// `outer IN (select WHERE lower(column) LIKE any of the values)`: a partial match on a
    /// small table that the big one joins by an indexed id.
    pub fn in_subquery_containing(
        &mut self,
        outer: &str,
        select: &str,
        column: &str,
        values: &[String],
    ) {
        self.in_subquery(outer, select, |inner| inner.contains_any(column, values));
    }

    /// `outer IN (select WHERE …)` by the one rule for naming a record (see
    /// [`Where::id_or_key_contains`]) on the small table `select` reads: a lease, vehicle or
    /// medallion is found there and matched by the indexed id on the big one.
    pub fn in_subquery_named(
        &mut self,
        outer: &str,
        select: &str,
        (id_column, key_column): (&str, &str),
        values: &[String],
    ) {
        self.in_subquery(outer, select, |inner| {
            inner.id_or_key_contains(id_column, key_column, values)
        });
    }

    /// `outer IN (select WHERE column IN values)`: an exact match found through another
    /// table's index.
    pub fn in_subquery_any_of(
        &mut self,
        outer: &str,
        select: &str,
        column: &str,
        values: &[String],
    ) {
        self.in_subquery(outer, select, |inner| inner.any_of(column, values));
    }

    /// `outer IN (select WHERE …)` with the clauses `build` adds, numbering continuing.
    fn in_subquery(&mut self, outer: &str, select: &str, build: impl FnOnce(&mut Where)) {
        let mut inner = Where {
            clauses: Vec::new(),
            args: std::mem::take(&mut self.args),
        };
        build(&mut inner);
        self.args = inner.args;
        if !inner.clauses.is_empty() {
            self.clauses.push(format!(
                "{outer} IN ({select} WHERE {})",
                inner.clauses.join(" AND ")
            ));
        }
    }

    pub fn compare(&mut self, column: &str, op: &str, arg: Arg) {
        let mark = self.placeholder(arg);
        self.clauses.push(format!("{column} {op} {mark}"));
    }

    /// Adds `(a OR b …)` made of the clauses `build` adds, numbering continuing.
    pub fn either(&mut self, build: impl FnOnce(&mut Where)) {
        let mut inner = Where {
            clauses: Vec::new(),
            args: std::mem::take(&mut self.args),
        };
        build(&mut inner);
        self.args = inner.args;
        if !inner.clauses.is_empty() {
            self.clauses
                .push(format!("({})", inner.clauses.join(" OR ")));
        }
    }

    /// Matches no row: a filter named something that does not exist (no rows, not every row).
    pub fn nothing(&mut self) {
        self.clauses.push("1 = 0".into());
    }

    pub fn raw(&mut self, clause: &str) {
        self.clauses.push(clause.to_string());
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub fn next_placeholder(&self, offset: usize) -> String {
        format!("${}", self.args.len() + offset)
    }
}

pub fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Text(t) => query.bind(t.clone()),
            Arg::Int(i) => query.bind(*i),
        };
    }
    query
}

pub fn bind_all_scalar<'q, O>(
    mut query: sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Text(t) => query.bind(t.clone()),
            Arg::Int(i) => query.bind(*i),
        };
    }
    query
}

/// One page of `SELECT {columns} {from} {filter} ORDER BY {order_by}` and the total count for
/// the same filter: the shape every filtered list shares.
pub async fn fetch_page<T>(
    pool: &sqlx::AnyPool,
    columns: &str,
    from: &str,
    filter: &Where,
    order_by: &str,
    page: crate::db::PageRequest,
    map: impl Fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<(Vec<T>, i64), sqlx::Error> {
    let where_sql = filter.sql();
    let count_sql = format!("SELECT COUNT(*) {from} {where_sql}");
    let total: i64 = bind_all_scalar(sqlx::query_scalar(&count_sql), &filter.args)
        .fetch_one(pool)
        .await?;
    let sql = format!(
        "SELECT {columns} {from} {where_sql} ORDER BY {order_by} LIMIT {} OFFSET {}",
        filter.next_placeholder(1),
        filter.next_placeholder(2)
    );
    let rows = bind_all(sqlx::query(&sql), &filter.args)
        .bind(page.per_page)
        .bind(page.offset())
        .fetch_all(pool)
        .await?;
    Ok((rows.iter().map(map).collect::<Result<_, _>>()?, total))
}
