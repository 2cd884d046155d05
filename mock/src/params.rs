//! Query-string parsing for the customers endpoint, as strict as a gateway: names are matched
//! case-insensitively (the article writes both `includeIndustries` and `IncludeIndustries`),
//! booleans are `true`/`false` in any case or bare (`?includeAddresses` means true), and
//! anything malformed is a 400 with a message that names the parameter.

use crate::data::{Sections, Status};

/// The largest page the emulator serves; also the article's default page size.
pub const MAX_PAGE_SIZE: u32 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub include_child_organizations: bool,
    pub sections: Sections,
    pub customer_status: Option<Status>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            include_child_organizations: true,
            sections: Sections::default(),
            customer_status: None,
            page: 1,
            page_size: MAX_PAGE_SIZE,
        }
    }
}

pub fn parse(raw: Option<&str>) -> Result<Params, String> {
    let mut p = Params::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let name = key.to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let known = matches!(
            name.as_str(),
            "includechildorganizations"
                | "includeaddresses"
                | "includecontacts"
                | "includecustomproperties"
                | "includetenants"
                | "includeindustries"
                | "customerstatus"
                | "page"
                | "pagesize"
        );
        if !known {
            // Gateways pass unknown parameters through; the API ignores them.
            continue;
        }
        if seen.contains(&name) {
            return Err(format!("Query parameter '{key}' is given more than once."));
        }
        seen.push(name.clone());
        match name.as_str() {
            "includechildorganizations" => p.include_child_organizations = boolean(&key, &value)?,
            "includeaddresses" => p.sections.addresses = boolean(&key, &value)?,
            "includecontacts" => p.sections.contacts = boolean(&key, &value)?,
            "includecustomproperties" => p.sections.custom_properties = boolean(&key, &value)?,
            "includetenants" => p.sections.tenants = boolean(&key, &value)?,
            "includeindustries" => p.sections.industries = boolean(&key, &value)?,
            "customerstatus" => {
                p.customer_status = Some(
                    Status::parse_ci(&value)
                        .ok_or_else(|| format!("Query parameter 'customerStatus' must be one of New, Active, Suspended; got '{value}'."))?,
                )
            }
            "page" => p.page = positive(&key, &value, u32::MAX)?,
            "pagesize" => p.page_size = positive(&key, &value, MAX_PAGE_SIZE)?,
            _ => unreachable!("filtered by `known` above"),
        }
    }
    Ok(p)
}

fn boolean(key: &str, value: &str) -> Result<bool, String> {
    if value.is_empty() || value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(format!("Query parameter '{key}' must be true or false; got '{value}'."))
    }
}

fn positive(key: &str, value: &str, max: u32) -> Result<u32, String> {
    let n: u64 = value.parse().map_err(|_| format!("Query parameter '{key}' must be a whole number from 1 to {max}; got '{value}'."))?;
    if n == 0 || n > max as u64 {
        return Err(format!("Query parameter '{key}' must be a whole number from 1 to {max}; got '{value}'."));
    }
    Ok(n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_article() {
        let p = parse(None).unwrap();
        assert!(p.include_child_organizations);
        assert_eq!(p.sections, Sections::default());
        assert_eq!((p.page, p.page_size, p.customer_status), (1, 10_000, None));
    }

    #[test]
    fn names_are_case_insensitive_and_bare_flags_mean_true() {
        let p = parse(Some("IncludeIndustries&INCLUDETENANTS=TRUE&includeChildOrganizations=False")).unwrap();
        assert!(p.sections.industries && p.sections.tenants && !p.include_child_organizations);
    }

    #[test]
    fn bad_values_are_rejected_with_the_parameter_named() {
        for q in [
            "pageSize=0",
            "pageSize=-1",
            "pageSize=abc",
            "pageSize=10001",
            "page=0",
            "page=1.5",
            "customerStatus=Deleted",
            "includeAddresses=yes",
            "page=1&PAGE=2",
        ] {
            let err = parse(Some(q)).unwrap_err();
            let name = q.split('=').next().unwrap();
            assert!(err.to_lowercase().contains(&name.to_lowercase()), "{q}: {err}");
        }
    }
}
