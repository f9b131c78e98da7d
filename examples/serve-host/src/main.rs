//! `serve-host <component.wasm> [--connector <connector.wasm>] [--listen 127.0.0.1:8080]
//! [--env NAME=VALUE]... [--allow host:port]... [--log]`
//!
//! With `--connector`, composes the component with the connector first. Prints
//! `listening on http://ip:port`, then serves until interrupted.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serve_host::{ServeOptions, compose, serve};

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut component: Option<PathBuf> = None;
    let mut connector: Option<PathBuf> = None;
    let mut listen = "127.0.0.1:8080".to_string();
    let mut options = ServeOptions::default();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--connector" => connector = Some(value()?.into()),
            "--listen" => listen = value()?,
            "--env" => {
                let kv = value()?;
                let (k, v) = kv.split_once('=').context("--env takes NAME=VALUE")?;
                options.env.push((k.to_string(), v.to_string()));
            }
            "--allow" => options.allow.push(value()?),
            "--log" => options.log = true,
            "-h" | "--help" => {
                println!(
                    "serve-host <component.wasm> [--connector <connector.wasm>] [--listen addr] [--env NAME=VALUE]... [--allow host:port]... [--log]"
                );
                return Ok(());
            }
            other if component.is_none() && !other.starts_with('-') => {
                component = Some(other.into())
            }
            other => bail!("unexpected argument {other}"),
        }
    }
    let component = component.context("give the component to serve")?;
    let bytes = match connector {
        Some(connector) => compose(&component, &connector)?,
        None => {
            std::fs::read(&component).with_context(|| format!("reading {}", component.display()))?
        }
    };
    let server = serve(&bytes, listen.parse()?, options).await?;
    println!("listening on {}", server.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
