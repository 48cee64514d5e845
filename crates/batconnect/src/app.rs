//! Start-up: connect, migrate, bootstrap (admin, token secret, BPM registration), serve.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::password::HashCost;
use crate::auth::service::{self as auth_service, AdminBootstrap};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::state::AppState;

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

/// Options that tests and the CLI set; production uses the defaults.
#[derive(Clone, Default)]
pub struct Options {
    pub clock: Clock,
    pub hash_cost: Option<HashCost>,
    pub demo: bool,
}

impl Application {
    /// Connects to the configured database and binds the listen address.
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database_url, config.db_max_connections).await?;
        Self::build_with_db(config, db, options).await
    }

    pub async fn build_with_db(
        config: Config,
        db: Db,
        options: Options,
    ) -> anyhow::Result<Application> {
        let state = prepare(config, db, options).await?;
        let listener = TcpListener::bind(state.config.listen).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (BAT_LISTEN): {e}", state.config.listen)
        })?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (and runs the scheduler, when enabled) until `shutdown` completes, then
    /// finishes in-flight requests and the scheduler's current step.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        tracing::info!(address = %self.local_addr(), database = self.state.db.backend().name(), "listening");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let scheduler = self.state.config.scheduler_enabled.then(|| {
            let scheduler = self.state.scheduler();
            let mut stopped = stopped.clone();
            tokio::spawn(scheduler.run_until(async move {
                let _ = stopped.wait_for(|s| *s).await;
            }))
        });
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        // Files kept for refused console forms expire after a day; this removes them
        // (at start, then hourly) even when no form is refused to trigger the sweep.
        let sweeper = {
            let state = self.state.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    tokio::select! {
                        _ = hourly.tick() => {
                            crate::documents::pending::sweep(&state.db, &state.storage, state.clock.now()).await;
                        }
                        changed = stopped.changed() => {
                            if changed.is_err() || *stopped.borrow() {
                                break;
                            }
                        }
                    }
                }
            })
        };
        let config = &self.state.config;
        let limits = crate::http::serve::Limits {
            header_timeout: std::time::Duration::from_secs(config.header_timeout_seconds),
            keep_alive: std::time::Duration::from_secs(config.keep_alive_seconds),
            body_timeout: std::time::Duration::from_secs(config.body_timeout_seconds),
            max_connections: config.max_connections,
        };
        let files = crate::http::serve::raise_file_limit();
        tracing::info!(
            open_file_limit = files,
            max_connections = limits.max_connections,
            header_timeout_s = config.header_timeout_seconds,
            keep_alive_s = config.keep_alive_seconds,
            "connection limits"
        );
        crate::http::serve::serve(self.listener, router, limits, stopped).await?;
        if let Some(task) = scheduler {
            let _ = task.await;
        }
        let _ = sweeper.await;
        self.state.db.close().await;
        Ok(())
    }
}

/// Migrations, first admin, token keys, flow registration; shared by `serve` and the CLI.
pub async fn prepare(config: Config, db: Db, options: Options) -> anyhow::Result<AppState> {
    db.migrate().await?;
    let hash_cost = options.hash_cost.unwrap_or_default();
    let now = options.clock.now();
    let mut tx = db.begin().await?;
    if let AdminBootstrap::Created { generated_password } =
        auth_service::ensure_admin(&mut tx, config.admin_password.as_deref(), hash_cost, now)
            .await?
    {
        match generated_password {
            // Printed once, on purpose: this is the only way to learn a generated password.
            Some(password) => println!(
                "Created user 'admin' with generated password: {password}\n(set BAT_ADMIN_PASSWORD before the first start to choose it; it is not shown again)"
            ),
            None => tracing::info!(
                "created user 'admin' with {}",
                config.admin_password_source
            ),
        }
    }
    tx.commit().await?;
    if options.demo {
        crate::seed::demo(&db, hash_cost, now).await?;
    }
    let tokens = auth_service::load_token_keys(
        &db,
        config.token_secret.as_deref(),
        config.token_ttl_seconds,
    )
    .await?;
    let storage = crate::storage::Storage::from_config(&config)?;
    tracing::debug!(location = storage.location(), "file storage");
    let flows = Arc::new(crate::bpm_flows::registry());
    // Each job of the Sunday chain by the feature that does its work.
    let steps = Arc::new(crate::jobs::registry::Steps::of(vec![
        crate::repairs::jobs::STEP,
        crate::fleet::rent::STEP,
        crate::dtr::service::STEP,
    ])?);
    crate::bpm::service::register_flows(&db, &flows, now).await?;
    let export_slots = Arc::new(tokio::sync::Semaphore::new(
        (config.db_max_connections as usize / 3).max(1),
    ));
    Ok(AppState {
        db,
        config: Arc::new(config),
        clock: options.clock,
        tokens: Arc::new(tokens),
        hash_cost,
        flows,
        steps,
        storage,
        login_guard: Arc::new(crate::auth::guard::LoginGuard::new(hash_cost)),
        export_slots,
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
