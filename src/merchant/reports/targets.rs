//! Where a report's deliveries may go: a generator's target space (a directory, or a
//! pattern the address must match), checked at create and patch and resolved again at
//! delivery. A directory generator gives each instance a room of its own,
//! `TARGET_DIRECTORY/<instance id>/`: an instance's `target_address` is a path inside
//! its room, so no instance can name another one's deliveries.

use crate::{config::ReportTargets, taler::ApiError};

/// Where a delivery goes: the directory target resolved (symlinks included) and
/// checked to be inside the instance's room, with the room; or the address as it is.
/// The room and the target directory are created (owner-only) when missing.
pub fn resolve_target(
    targets: &ReportTargets,
    instance_id: &str,
    target: &str,
) -> Result<(String, Option<String>), String> {
    match targets {
        ReportTargets::Pattern(_) => Ok((target.to_owned(), None)),
        ReportTargets::Directory(root) => {
            if !is_relative_target(target) {
                return Err(format!(
                    "target_address `{target}` is not a relative path inside the generator's directory"
                ));
            }
            if !is_relative_target(instance_id) || instance_id.contains('/') {
                return Err(format!("instance id `{instance_id}` names no directory"));
            }
            let room = root.join(instance_id);
            create_owner_only(&room.join(target))
                .map_err(|e| format!("target `{target}` of instance {instance_id}: {e}"))?;
            let root = std::fs::canonicalize(&room)
                .map_err(|e| format!("instance directory {}: {e}", room.display()))?;
            let resolved = std::fs::canonicalize(root.join(target))
                .map_err(|e| format!("target `{target}`: {e}"))?;
            if !resolved.starts_with(&root) {
                return Err(format!(
                    "target `{target}` leads out of the instance's directory"
                ));
            }
            Ok((
                resolved.display().to_string(),
                Some(root.display().to_string()),
            ))
        }
    }
}

/// Creates a directory and its missing parents, readable by the server's user only.
fn create_owner_only(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Checks a `target_address` against the generator's target space.
pub fn check_target(targets: &ReportTargets, target: &str) -> Result<(), ApiError> {
    let ok = match targets {
        ReportTargets::Directory(_) => is_relative_target(target),
        ReportTargets::Pattern(pattern) => pattern.is_match(target),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::malformed(
            "target_address",
            match targets {
                ReportTargets::Directory(_) => {
                    "target_address: must be a relative path inside the generator's directory: \
                     segments of letters, digits, `.`, `_` and `-`, no `..`"
                }
                ReportTargets::Pattern(_) => {
                    "target_address: does not match the generator's TARGET_PATTERN"
                }
            },
        ))
    }
}

/// A relative path of plain segments: nothing a shell, a URL or `..` could widen.
pub fn is_relative_target(target: &str) -> bool {
    !target.is_empty()
        && target.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}
