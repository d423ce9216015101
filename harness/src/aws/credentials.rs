//! Where a run against AWS gets its credentials: the standard chain through `aws-config`.

use super::*;

/// Where credentials come from.
pub trait CredentialSource: Send {
    /// What to name in messages (`profile buyer`, `the default chain`).
    fn label(&self) -> String;
    fn credentials(&mut self) -> Result<Credentials, InfraError>;
}

/// The standard AWS chain through `aws-config`: a named profile of the shared files, or the
/// default chain (environment, then the default profile, then the rest of the chain).
pub struct ChainCredentials {
    runtime: tokio::runtime::Runtime,
    provider: SharedCredentialsProvider,
    label: String,
    cached: Option<Credentials>,
}

impl ChainCredentials {
    pub fn new(profile: Option<&str>, region: &str) -> Result<ChainCredentials, InfraError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| InfraError::Other(format!("credential chain runtime: {e}")))?;
        // The chain's own calls (SSO, STS assume-role, IMDS) go through an HTTPS client on ring.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let config = aws_config::provider_config::ProviderConfig::default()
            .with_http_client(http)
            .with_region(Some(aws_config::Region::new(region.to_string())));
        let (provider, label) = match profile {
            // A named profile is taken from the shared files only, so environment keys cannot
            // stand in for another account's.
            Some(name) => (
                SharedCredentialsProvider::new(
                    aws_config::profile::ProfileFileCredentialsProvider::builder()
                        .configure(&config)
                        .profile_name(name)
                        .build(),
                ),
                format!("profile {name}"),
            ),
            None => {
                let chain = runtime.block_on(
                    aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                        .configure(config)
                        .build(),
                );
                (
                    SharedCredentialsProvider::new(chain),
                    "the default credential chain".to_string(),
                )
            }
        };
        Ok(ChainCredentials {
            runtime,
            provider,
            label,
            cached: None,
        })
    }
}

impl CredentialSource for ChainCredentials {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn credentials(&mut self) -> Result<Credentials, InfraError> {
        // Temporary credentials are fetched again a few minutes before they expire.
        let fresh = |c: &Credentials| {
            c.expiry()
                .is_none_or(|t| t > SystemTime::now() + Duration::from_secs(300))
        };
        if let Some(c) = self.cached.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let provider = self.provider.clone();
        let c = self
            .runtime
            .block_on(provider.provide_credentials())
            .map_err(|e| InfraError::Other(format!("no credentials from {}: {e}", self.label)))?;
        self.cached = Some(c.clone());
        Ok(c)
    }
}
