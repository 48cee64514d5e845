//! `batconnect`: the BAT Connect Repairs service and its operator commands.

use std::path::PathBuf;
use std::process::ExitCode;

use batconnect::app::{self, Options};
use batconnect::auth::CurrentUser;
use batconnect::config::Config;
use batconnect::db::Db;
use batconnect::import::{self, Entity};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "batconnect",
    version,
    about = "BAT Connect Repairs: repair invoices, weekly installments, ledger and driver statements for a taxi fleet.",
    long_about = "BAT Connect Repairs back-office service.\n\nSettings come from BAT_* environment variables (see README.md): BAT_DATABASE_URL (default: SQLite file ./data/batconnect.db), BAT_LISTEN (default 127.0.0.1:8000), BAT_ADMIN_PASSWORD, BAT_TIMEZONE (default America/New_York), BAT_DATA_DIR, BAT_TOKEN_SECRET, BAT_SCHEMA_DIR."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, register the BPM flows, and serve the HTTP API (Swagger UI at /docs).
    Serve {
        /// Also load the demo fleet and demo users (once; later starts load nothing twice).
        #[arg(long)]
        demo: bool,
    },
    /// Run only the scheduler (the Sunday chain: post due installments, then DTRs); any
    /// number of workers and servers may share one PostgreSQL database.
    Worker,
    /// Post every Scheduled installment due on or before a date to the ledger, now.
    PostDueInstallments {
        /// Run date, YYYY-MM-DD (default: today in BAT_TIMEZONE).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Generate (or regenerate) the DTRs of one week now (drafts are replaced, finalized kept).
    GenerateDtrs {
        /// The week's Sunday, YYYY-MM-DD (a week that has ended).
        #[arg(long)]
        week: String,
    },
    /// Run the Sunday chain (posting, then the statements of the week before) of every
    /// Sunday from --from to --to, oldest first, as the scheduler would: fills Sundays
    /// recorded as `missed` (more weeks behind than BAT_CATCH_UP_WEEKS) or a scheduled run
    /// that failed on all its attempts. Steps already done are skipped.
    RunChain {
        /// The first Sunday, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// The last Sunday, YYYY-MM-DD (default: the --from Sunday).
        #[arg(long)]
        to: Option<String>,
    },
    /// Ledger checks.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Statement (DTR) checks.
    Dtr {
        #[command(subcommand)]
        command: DtrCommand,
    },
    /// Workshop invoice numbers: list the clashes an upgrade would refuse, or correct one.
    Invoices {
        #[command(subcommand)]
        command: InvoicesCommand,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load data into the database and exit.
    Seed {
        /// Load the demo fleet (≥ 20 drivers, vehicles, medallions, active leases) and one user per role.
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Import fleet records from a CSV file (all rows or none; bad rows are listed by line).
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        entity: Entity,
        /// The CSV file, with a header row.
        file: PathBuf,
    },
    /// Link a BPM step to a JSON Schema (relative to the schema root); the newest active link wins.
    LinkSchema {
        /// The step, e.g. REPAIR_ENTER_DETAILS.
        step_id: String,
        /// Schema path relative to the schema root, e.g. newrepair/schemas/enter_details.json.
        path: String,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check the ledger's invariants (balances, allocations, per-lease sums, nothing posted
    /// twice); exits non-zero listing the offending ids.
    Verify,
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// List the open invoices whose numbers are one number on their letters and digits
    /// (run before upgrading; works on a database not upgraded yet). Exits non-zero when
    /// there are any.
    Clashes,
    /// Correct an invoice's number (refused once anything of it is posted), audited.
    Renumber {
        /// The invoice's repair id, e.g. RPR-2026-00001.
        repair_id: String,
        /// The number as the workshop wrote it.
        invoice_number: String,
        /// Why (10 to 500 characters).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum DtrCommand {
    /// Check every finalized statement's stored PDF against the SHA-256 recorded when it
    /// was finalized; exits non-zero listing missing or changed files.
    Verify,
}

fn cli_requester(username: &str) -> batconnect::jobs::runner::Requester<'_> {
    batconnect::jobs::runner::Requester {
        trigger: domain::status::JobTrigger::Cli,
        username,
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("BAT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("BAT_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let clock = match config.test_now {
        Some(at) => batconnect::clock::Clock::fixed(at),
        None => batconnect::clock::Clock::system(),
    };
    let now = clock.now();
    // Who ran a CLI command, for the job runs and the audit trail.
    let cli_user = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let options = || Options {
        clock: clock.clone(),
        ..Options::default()
    };
    match command {
        Command::Serve { demo } => {
            let mut config = config;
            if demo && config.admin_password.is_none() {
                config.admin_password = Some(batconnect::seed::DEMO_ADMIN_PASSWORD.to_string());
                config.admin_password_source = "the demo password (BAT_ADMIN_PASSWORD is not set)";
            }
            let application =
                batconnect::Application::build(config, Options { demo, ..options() }).await?;
            let address = application.local_addr();
            println!("BAT Connect Repairs listening on http://{address} (Swagger UI: http://{address}/docs)");
            application.run_until_stopped(app::shutdown_signal()).await
        }
        Command::Worker => {
            let db = Db::connect(&config.database_url, config.db_max_connections).await?;
            let state = app::prepare(config, db, options()).await?;
            let scheduler = state.scheduler();
            println!("worker started (owner {})", scheduler.ctx.owner);
            scheduler.run_until(app::shutdown_signal()).await;
            state.db.close().await;
            Ok(())
        }
        Command::PostDueInstallments { as_of } => {
            let today = domain::calendar::local_date(now, config.timezone);
            let db = Db::connect(&config.database_url, config.db_max_connections).await?;
            let state = app::prepare(config, db, options()).await?;
            let as_of = batconnect::jobs::model::run_date(as_of.as_deref(), today)
                .map_err(|e| anyhow::anyhow!("--{}", e.detail()))?;
            let run_id = batconnect::jobs::runner::run_now(
                &state.job_context(),
                batconnect::jobs::model::POST_DUE_INSTALLMENTS,
                as_of,
                cli_requester(&cli_user),
            )
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
            let run = batconnect::jobs::repo::by_id(state.db.reader(), run_id).await?;
            println!("{}", serde_json::to_string_pretty(&run)?);
            Ok(())
        }
        Command::GenerateDtrs { week } => {
            let week = domain::calendar::SundayDate::parse(week.trim())
                .map_err(|e| anyhow::anyhow!("--week: {e}"))?;
            let today = domain::calendar::local_date(now, config.timezone);
            if week.next().date() > today {
                anyhow::bail!(
                    "--week: the week of {week} has not ended yet (it ends {})",
                    week.week_end()
                );
            }
            let db = Db::connect(&config.database_url, config.db_max_connections).await?;
            let state = app::prepare(config, db, options()).await?;
            // Recorded like a run on the Sunday after the week.
            let run_id = batconnect::jobs::runner::run_now(
                &state.job_context(),
                batconnect::jobs::model::GENERATE_DTRS,
                week.next().date(),
                cli_requester(&cli_user),
            )
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
            let run = batconnect::jobs::repo::by_id(state.db.reader(), run_id).await?;
            println!("{}", serde_json::to_string_pretty(&run)?);
            Ok(())
        }
        Command::RunChain { from, to } => {
            let sunday = |name: &str, text: &str| {
                domain::calendar::SundayDate::parse(text.trim())
                    .map_err(|e| anyhow::anyhow!("--{name}: {e}"))
            };
            let first = sunday("from", &from)?;
            let last = match to {
                Some(to) => sunday("to", &to)?,
                None => first,
            };
            let current = domain::calendar::current_payment_period(now, config.timezone);
            if last > current || first > last {
                anyhow::bail!("--from and --to must be Sundays in order, no later than the current week's ({current})");
            }
            let db = Db::connect(&config.database_url, config.db_max_connections).await?;
            let state = app::prepare(config, db, options()).await?;
            let made =
                batconnect::jobs::runner::run_chain(&state.job_context(), first, last, &cli_user)
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?;
            for (job, period, run_id) in &made {
                println!("{period} {job}: run {run_id} succeeded");
            }
            println!(
                "{} run(s); the chain of {first} to {last} is complete",
                made.len()
            );
            Ok(())
        }
        Command::Ledger {
            command: LedgerCommand::Verify,
        } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let problems = batconnect::ledger::verify::verify(db.reader()).await?;
            if problems.is_empty() {
                println!("ledger verified: no problems");
                Ok(())
            } else {
                for p in &problems {
                    println!("{p}");
                }
                anyhow::bail!("{} ledger problem(s)", problems.len())
            }
        }
        Command::Invoices { command } => {
            // No migration: this is what is run before an upgrade the clashes would stop.
            let db = Db::connect(&config.database_url, 2).await?;
            match command {
                InvoicesCommand::Clashes => {
                    let clashes = batconnect::repairs::numbers::clashes(db.reader()).await?;
                    for line in batconnect::repairs::numbers::describe(&clashes) {
                        println!("{line}");
                    }
                    if clashes.is_empty() {
                        println!("no clashes: every open invoice has its own number");
                        Ok(())
                    } else {
                        anyhow::bail!(
                            "{} invoice number(s) are shared by open invoices: cancel or renumber all but one of each",
                            clashes.len()
                        )
                    }
                }
                InvoicesCommand::Renumber {
                    repair_id,
                    invoice_number,
                    reason,
                } => {
                    let mut tx = db.begin().await?;
                    let done = batconnect::repairs::numbers::renumber(
                        &mut tx,
                        &repair_id,
                        &batconnect::repairs::numbers::RenumberRequest {
                            invoice_number,
                            reason,
                        },
                        &cli_user,
                        now,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!(e.detail()))?;
                    tx.commit().await?;
                    println!(
                        "{}: invoice number '{}' is now '{}'",
                        done.repair_id, done.previous_invoice_number, done.invoice_number
                    );
                    Ok(())
                }
            }
        }
        Command::Dtr {
            command: DtrCommand::Verify,
        } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let storage = batconnect::storage::Storage::from_config(&config)?;
            let found = batconnect::dtr::record::verify(db.reader(), &storage)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?;
            for p in &found.problems {
                println!("{p}");
            }
            if found.not_recorded > 0 {
                println!(
                    "{} finalized statement(s) have no stored PDF yet (finalized before records \
                     were kept); each is stored on its first download",
                    found.not_recorded
                );
            }
            if found.problems.is_empty() {
                println!(
                    "DTRs verified: {} stored statement(s) match their SHA-256",
                    found.checked
                );
                Ok(())
            } else {
                anyhow::bail!("{} DTR problem(s)", found.problems.len())
            }
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            println!("migrations applied ({})", db.backend().name());
            Ok(())
        }
        Command::Seed { demo: _ } => {
            let mut config = config;
            if config.admin_password.is_none() {
                config.admin_password = Some(batconnect::seed::DEMO_ADMIN_PASSWORD.to_string());
                config.admin_password_source = "the demo password (BAT_ADMIN_PASSWORD is not set)";
            }
            let db = Db::connect(&config.database_url, 2).await?;
            app::prepare(
                config,
                db,
                Options {
                    demo: true,
                    ..options()
                },
            )
            .await?;
            println!("demo data loaded (or already present)");
            Ok(())
        }
        Command::Import { entity, file } => {
            let timezone = config.timezone;
            let db = Db::connect(&config.database_url, 2).await?;
            app::prepare(config, db.clone(), options()).await?;
            let count = import::run(
                &db,
                entity,
                &file,
                &CurrentUser::system("import"),
                now,
                timezone,
            )
            .await?;
            println!("imported {count} row(s) from {}", file.display());
            Ok(())
        }
        Command::LinkSchema { step_id, path } => {
            let schema_dir = config.schema_dir.clone();
            let db = Db::connect(&config.database_url, 2).await?;
            app::prepare(config, db.clone(), options()).await?;
            let schema = batconnect::bpm::schemas::load(schema_dir.as_deref(), &path)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            batconnect::bpm::schemas::check(&path, &schema).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut tx = db.begin().await?;
            if !batconnect::bpm::repo::link_schema(
                &mut tx,
                &step_id,
                &path,
                &batconnect::db::timestamp(now),
            )
            .await?
            {
                anyhow::bail!("no step config with step_id '{step_id}'");
            }
            tx.commit().await?;
            println!(
                "step {step_id} now uses {}",
                batconnect::bpm::schemas::describe(schema_dir.as_deref(), &path)
            );
            Ok(())
        }
    }
}
