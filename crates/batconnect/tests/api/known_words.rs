//! The database refuses a status, type or category word the service does not know
//! (migration 0016: CHECK constraints on PostgreSQL, triggers on SQLite).

use crate::both_backends;

async fn refused(app: &crate::helpers::TestApp, sql: &str) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let error = sqlx::query(sql)
        .execute(&mut *tx)
        .await
        .expect_err(&format!("the database accepted: {sql}"));
    tx.rollback().await.unwrap();
    error.to_string()
}

both_backends! {
    async fn unknown_words_are_refused_on_insert_and_update(app) {
        let message = refused(
            app,
            "INSERT INTO job_runs (job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on) \
             VALUES ('dtr.generate_weekly', '2026-11-22', 'schedule', 'done', 'me', 1, 'now', 'now')",
        )
        .await;
        assert!(message.contains("job_runs_status_word"), "{message}");
        let message = refused(
            app,
            "INSERT INTO job_runs (job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on) \
             VALUES ('dtr.generate_weekly', '2026-11-22', 'manual', 'running', 'me', 1, 'now', 'now')",
        )
        .await;
        assert!(message.contains("job_runs_trigger_word"), "{message}");
        // A known word goes in; changing it to an unknown one is refused.
        let mut tx = app.db.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO job_runs (job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on) \
             VALUES ('dtr.generate_weekly', '2026-11-22', 'cli', 'running', 'me', 1, 'now', 'now')",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let message = refused(app, "UPDATE job_runs SET status = 'Succeeded' WHERE owner = 'me'").await;
        assert!(message.contains("job_runs_status_word"), "{message}");
        // Rows in the fleet, repairs and ledger tables: an invoice whose first installment
        // is posted.
        app.invoice_from_this_week(1, "300.00", "KW-1").await;
        app.post_due("2026-11-22").await;
        for (sql, constraint) in [
            ("UPDATE leases SET status = 'Closed'", "leases_status_word"),
            ("UPDATE leases SET termination_reason = 'fired'", "leases_termination_reason_word"),
            ("UPDATE drivers SET pay_to = 'cash'", "drivers_pay_to_word"),
            ("UPDATE medallions SET status = 'Lost'", "medallions_status_word"),
            ("UPDATE cases SET status = 'Done'", "cases_status_word"),
            ("UPDATE repair_invoices SET status = 'Paid'", "repair_invoices_status_word"),
            ("UPDATE repair_invoices SET workshop_type = 'Garage'", "repair_invoices_workshop_type_word"),
            ("UPDATE repair_installments SET status = 'Open'", "repair_installments_status_word"),
            // Postings are never rewritten: their words are checked as they go in.
            (
                "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, created_by, created_on) \
                 VALUES ('Misc', 100, 'PAYMENT', 'POSTED', 'KW-1', 'me', 'now')",
                "ledger_postings_entry_type_word",
            ),
            (
                "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, created_by, created_on) \
                 VALUES ('Repairs', 100, 'OBLIGATION', 'POSTED', 'KW-1', 'me', 'now')",
                "ledger_postings_category_word",
            ),
            ("UPDATE ledger_balances SET status = 'PAID'", "ledger_balances_status_word"),
        ] {
            let message = refused(app, sql).await;
            assert!(message.contains(constraint), "{sql}: {message}");
        }
        // A lease may have no termination reason (NULL is not a word).
        let mut tx = app.db.begin().await.unwrap();
        sqlx::query("UPDATE leases SET termination_reason = NULL").execute(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
    }
}
