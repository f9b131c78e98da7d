//! openmatch-databricks: the Databricks connector of OpenMatch as a WebAssembly component.
