//! The error type of the MongoDB store.

/// Why talking to MongoDB failed. Every variant names the server (credentials masked) or the
/// operation, so that the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The connection string could not be parsed.
    #[error("invalid MongoDB URI {uri}: {source}")]
    InvalidUri {
        /// The URI, password masked.
        uri: String,
        /// The driver's error.
        #[source]
        source: mongodb::error::Error,
    },
    /// No server answered within the server selection timeout.
    #[error("cannot reach MongoDB at {uri}: {source}")]
    Unreachable {
        /// The URI, password masked.
        uri: String,
        /// The driver's error.
        #[source]
        source: mongodb::error::Error,
    },
    /// A command failed.
    #[error("MongoDB at {uri}: {operation} failed: {source}")]
    Command {
        /// The URI, password masked.
        uri: String,
        /// What was being done, e.g. `insert into reviews`.
        operation: String,
        /// The driver's error.
        #[source]
        source: mongodb::error::Error,
    },
    /// The server's answer did not account for every record sent: counts would not be exact.
    #[error("MongoDB at {uri}: {operation}: unexpected reply: {detail}")]
    UnexpectedReply {
        /// The URI, password masked.
        uri: String,
        /// What was being done.
        operation: String,
        /// What did not add up.
        detail: String,
    },
}

/// `uri` with the password, if any, replaced by `***`, for messages and logs.
///
/// ```
/// assert_eq!(
///     recsys::store::redact_uri("mongodb://ann:secret@db.example:27017/?tls=true"),
///     "mongodb://ann:***@db.example:27017/?tls=true"
/// );
/// ```
pub fn redact_uri(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let hosts_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(hosts_end);
    match authority.rsplit_once('@') {
        Some((credentials, hosts)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            if credentials.contains(':') {
                format!("{scheme}://{user}:***@{hosts}{tail}")
            } else {
                format!("{scheme}://{user}@{hosts}{tail}")
            }
        }
        None => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_the_rest_kept() {
        assert_eq!(
            redact_uri("mongodb://127.0.0.1:27117/?directConnection=true"),
            "mongodb://127.0.0.1:27117/?directConnection=true"
        );
        assert_eq!(
            redact_uri("mongodb+srv://u:p@w@cluster0.example/db"),
            "mongodb+srv://u:***@cluster0.example/db"
        );
        assert_eq!(redact_uri("mongodb://u@h"), "mongodb://u@h");
        assert_eq!(redact_uri("not a uri"), "not a uri");
    }
}
