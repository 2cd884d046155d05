//! The records the API returns, with the API's own field names (so the vendor's article reads
//! the same as the code) — including its quirks: tenant keys `DomainName`, `InternalId`,
//! `ExternalId` are PascalCase while everything else is camelCase.
//!
//! Every field but `customerId` may be null or missing in real data, so they are `Option`s.
//! Sections that were not asked for (`includeAddresses` …) are absent. Fields the API adds
//! later are kept in `extra` (Rust) or simply present on the object (JavaScript).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tsify::Tsify;

/// A customer's lifecycle status. `customerStatus` filters on it.
/// # Examples
///
/// In JavaScript:
///
/// ```js
/// for await (const c of client.customers(orgId, { customerStatus: "Active" })) console.log(c.customerName);
/// ```
///
/// In Rust:
///
/// ```
/// use appxite_customers::{CustomerQuery, CustomerStatus};
/// let active = CustomerQuery { customer_status: Some(CustomerStatus::Active), ..Default::default() };
/// assert_eq!(active.customer_status.map(CustomerStatus::as_str), Some("Active"));
/// ```
#[derive(Tsify, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CustomerStatus {
    /// Created, not yet active.
    New,
    /// Active customer.
    Active,
    /// Suspended customer.
    Suspended,
}

impl CustomerStatus {
    /// The value the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::New => "New",
            CustomerStatus::Active => "Active",
            CustomerStatus::Suspended => "Suspended",
        }
    }
}

/// One difference a sync found (`client.sync`). `removed` ones come after every `added` and
/// `changed` one of the sync.
/// # Examples
///
/// In JavaScript, from `client.sync`:
///
/// ```js
/// for await (const change of client.sync(orgId, { snapshot })) {
///   if (change.type === "removed") await db.delete(change.customerId);
///   else await db.put(change.customerId, change.customer); // "added" or "changed"
/// }
/// ```
///
/// In Rust, from `Client::sync`:
///
/// ```
/// use appxite_customers::CustomerChange;
/// fn apply(change: CustomerChange) {
///     match change {
///         CustomerChange::Added { customer, .. } | CustomerChange::Changed { customer, .. } => println!("upsert {}", customer.customer_id),
///         CustomerChange::Removed { customer_id } => println!("delete {customer_id}"),
///     }
/// }
/// ```
#[derive(Tsify, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum CustomerChange {
    /// Not in the snapshot (every customer, without one).
    Added {
        /// The customer's ID.
        customer_id: String,
        /// The customer as it is now.
        customer: Customer,
    },
    /// Its content differs from the snapshot in the requested sections.
    Changed {
        /// The customer's ID.
        customer_id: String,
        /// The customer as it is now.
        customer: Customer,
    },
    /// In the snapshot, and the server confirmed it is gone (or no longer matches the query).
    Removed {
        /// The customer's ID.
        customer_id: String,
    },
}

/// One customer with the sections that were asked for.
/// # Examples
///
/// A record as the API sends it (here with `includeTenants`), and as JavaScript gets it:
///
/// ```json
/// {
///   "customerId": "11111111-2222-3333-4444-555555555555",
///   "customerName": "Contoso",
///   "customerStatus": "Active",
///   "customerTenants": [{ "vendorName": "Microsoft", "DomainName": "contoso.onmicrosoft.com" }]
/// }
/// ```
///
/// In Rust, fields this version does not know yet stay in `extra`:
///
/// ```
/// let c: appxite_customers::Customer =
///     serde_json::from_str(r#"{"customerId":"1111","customerName":"Contoso","newField":1}"#).unwrap();
/// assert_eq!(c.customer_name.as_deref(), Some("Contoso"));
/// assert_eq!(c.extra["newField"], 1);
/// ```
#[derive(Tsify, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer organization's ID (a UUID).
    pub customer_id: String,
    /// Display name. Render it as text: it is user-entered and may look like markup.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub customer_name: Option<String>,
    /// The reseller (or, for direct customers, the distributor) that owns this customer.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub reseller_id: Option<String>,
    /// Name of the owning reseller.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub reseller_name: Option<String>,
    /// `New`, `Active` or `Suspended` (a newer API may add values).
    #[serde(default)]
    #[tsify(optional, type = "CustomerStatus | null")]
    pub customer_status: Option<String>,
    /// Country name.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub customer_country: Option<String>,
    /// The customer's ID in the partner's ERP.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub customer_erp_organization_id: Option<String>,
    /// Company registration number.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub customer_registration_number: Option<String>,
    /// VAT number.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub customer_vat_number: Option<String>,
    /// ISO 4217 currency code.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub customer_currency: Option<String>,
    /// Market segment.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub customer_segment: Option<String>,
    /// Vendor tenants (with `includeTenants`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomerTenant[] | null")]
    pub customer_tenants: Option<Vec<CustomerTenant>>,
    /// Primary address (with `includeAddresses`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomerPrimaryAddress | null")]
    pub customer_primary_address: Option<CustomerPrimaryAddress>,
    /// Billing address (with `includeAddresses`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomerBillingAddress | null")]
    pub customer_billing_address: Option<CustomerBillingAddress>,
    /// Primary contact (with `includeContacts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomerPrimaryContact | null")]
    pub customer_primary_contact: Option<CustomerPrimaryContact>,
    /// Billing contact (with `includeContacts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomerBillingContact | null")]
    pub customer_billing_contact: Option<CustomerBillingContact>,
    /// Account manager contact (with `includeContacts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomerAccountManagerContact | null")]
    pub customer_account_manager_contact: Option<CustomerAccountManagerContact>,
    /// Service desk contact (with `includeContacts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomerServiceDeskContact | null")]
    pub customer_service_desk_contact: Option<CustomerServiceDeskContact>,
    /// Custom properties (with `includeCustomProperties`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "CustomProperty[] | null")]
    pub customer_custom_properties: Option<Vec<CustomProperty>>,
    /// Industries (with `includeIndustries`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "string[] | null")]
    pub customer_industries: Option<Vec<String>>,
    /// Fields this version does not know yet, kept as they came. (In JavaScript they are
    /// simply present on the object; the TypeScript type declares only the known fields.)
    #[serde(flatten)]
    #[tsify(type = "{}")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A vendor tenant of a customer. Note the API's PascalCase keys for the last three.
/// # Examples
///
/// ```json
/// { "vendorId": "…", "vendorName": "Microsoft", "DomainName": "contoso.onmicrosoft.com", "InternalId": "…", "ExternalId": "…" }
/// ```
///
/// ```js
/// const domains = customer.customerTenants?.map((t) => t.DomainName) ?? [];
/// ```
#[derive(Tsify, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct CustomerTenant {
    /// The vendor's ID.
    #[serde(rename = "vendorId", default)]
    #[tsify(optional, type = "string | null")]
    pub vendor_id: Option<String>,
    /// The vendor's name (e.g. Microsoft).
    #[serde(rename = "vendorName", default)]
    #[tsify(optional, type = "string | null")]
    pub vendor_name: Option<String>,
    /// The tenant's domain.
    #[serde(rename = "DomainName", default)]
    #[tsify(optional, type = "string | null")]
    pub domain_name: Option<String>,
    /// The tenant's ID inside the platform.
    #[serde(rename = "InternalId", default)]
    #[tsify(optional, type = "string | null")]
    pub internal_id: Option<String>,
    /// The tenant's ID at the vendor.
    #[serde(rename = "ExternalId", default)]
    #[tsify(optional, type = "string | null")]
    pub external_id: Option<String>,
}

/// Generates an address or contact shape whose keys carry a prefix, as the API sends them
/// (`primaryAddressCity`, `billingContactEmail` …): six structs of the same form.
macro_rules! prefixed_shape {
    ($(#[$doc:meta])* $name:ident { $($field:ident => $key:literal, $fdoc:literal;)* }) => {
        $(#[$doc])*
        #[derive(Tsify, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
        pub struct $name {
            $(
                #[doc = $fdoc]
                #[serde(rename = $key, default)]
                #[tsify(optional, type = "string | null")]
                pub $field: Option<String>,
            )*
        }
    };
}

prefixed_shape!(
    /// `customerPrimaryAddress`.
    /// # Examples
    ///
    /// ```json
    /// { "primaryAddressAddressLine1": "Rue de la Loi 16", "primaryAddressCity": "Brussels", "primaryAddressPostalCode": "1000", "primaryAddressCountryCode": "BE" }
    /// ```
    CustomerPrimaryAddress {
        address_line1 => "primaryAddressAddressLine1", "First address line.";
        address_line2 => "primaryAddressAddressLine2", "Second address line.";
        city => "primaryAddressCity", "City.";
        province => "primaryAddressProvince", "Province or state.";
        postal_code => "primaryAddressPostalCode", "Postal code.";
        country_code => "primaryAddressCountryCode", "ISO 3166 alpha-2 country code.";
    }
);
prefixed_shape!(
    /// `customerBillingAddress`.
    /// # Examples
    ///
    /// ```json
    /// { "billingAddressAddressLine1": "Avenue Louise 54", "billingAddressCity": "Brussels", "billingAddressPostalCode": "1050", "billingAddressCountryCode": "BE" }
    /// ```
    CustomerBillingAddress {
        address_line1 => "billingAddressAddressLine1", "First address line.";
        address_line2 => "billingAddressAddressLine2", "Second address line.";
        city => "billingAddressCity", "City.";
        province => "billingAddressProvince", "Province or state.";
        postal_code => "billingAddressPostalCode", "Postal code.";
        country_code => "billingAddressCountryCode", "ISO 3166 alpha-2 country code.";
    }
);
prefixed_shape!(
    /// `customerPrimaryContact`.
    /// # Examples
    ///
    /// ```json
    /// { "primaryContactFirstName": "Alice", "primaryContactLastName": "Martin", "primaryContactRole": "CEO", "primaryContactEmail": "alice@contoso.example" }
    /// ```
    CustomerPrimaryContact {
        first_name => "primaryContactFirstName", "First name.";
        last_name => "primaryContactLastName", "Last name.";
        role => "primaryContactRole", "Role, e.g. CEO.";
        email => "primaryContactEmail", "Email address.";
        phone => "primaryContactPhone", "Phone number.";
    }
);
prefixed_shape!(
    /// `customerBillingContact`.
    /// # Examples
    ///
    /// ```json
    /// { "billingContactFirstName": "Chloé", "billingContactLastName": "Dubois", "billingContactRole": "CFO", "billingContactEmail": "billing@contoso.example" }
    /// ```
    CustomerBillingContact {
        first_name => "billingContactFirstName", "First name.";
        last_name => "billingContactLastName", "Last name.";
        role => "billingContactRole", "Role, e.g. CFO.";
        email => "billingContactEmail", "Email address.";
        phone => "billingContactPhone", "Phone number.";
    }
);
prefixed_shape!(
    /// `customerAccountManagerContact`.
    /// # Examples
    ///
    /// ```json
    /// { "accountManagerContactFirstName": "Dan", "accountManagerContactLastName": "Peeters", "accountManagerContactEmail": "dan@partner.example" }
    /// ```
    CustomerAccountManagerContact {
        first_name => "accountManagerContactFirstName", "First name.";
        last_name => "accountManagerContactLastName", "Last name.";
        role => "accountManagerContactRole", "Role.";
        email => "accountManagerContactEmail", "Email address.";
        phone => "accountManagerContactPhone", "Phone number.";
    }
);
prefixed_shape!(
    /// `customerServiceDeskContact`.
    /// # Examples
    ///
    /// ```json
    /// { "serviceDeskContactFirstName": "Bob", "serviceDeskContactLastName": "Janssens", "serviceDeskContactPhone": "+32 2 555 01 23" }
    /// ```
    CustomerServiceDeskContact {
        first_name => "serviceDeskContactFirstName", "First name.";
        last_name => "serviceDeskContactLastName", "Last name.";
        role => "serviceDeskContactRole", "Role.";
        email => "serviceDeskContactEmail", "Email address.";
        phone => "serviceDeskContactPhone", "Phone number.";
    }
);

/// One custom property of a customer.
/// # Examples
///
/// ```json
/// { "customPropertyName": "Tax Zone", "customPropertyValue": "EU_Belgium" }
/// ```
///
/// ```js
/// const taxZone = customer.customerCustomProperties?.find((p) => p.customPropertyName === "Tax Zone")?.customPropertyValue;
/// ```
#[derive(Tsify, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomProperty {
    /// The property's name, e.g. `Tax Zone`.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub custom_property_name: Option<String>,
    /// The property's value.
    #[serde(default)]
    #[tsify(optional, type = "string | null")]
    pub custom_property_value: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The article's example response, verbatim — comment keys and all.
    pub const ARTICLE_EXAMPLE: &str = include_str!("../tests/fixtures/article-example.json");

    #[test]
    fn the_article_example_decodes_with_every_section() {
        let list: Vec<Customer> = serde_json::from_str(ARTICLE_EXAMPLE).unwrap();
        let c = &list[0];
        assert_eq!(c.customer_id, "11111111-2222-3333-4444-555555555555");
        assert_eq!(c.customer_status.as_deref(), Some("Active"));
        let t = &c.customer_tenants.as_ref().unwrap()[1];
        assert_eq!(t.domain_name.as_deref(), Some("anothergenericdomain.example"));
        assert_eq!(t.internal_id.as_deref(), Some("abcdef12-3456-7890-abcd-ef1234567891"));
        assert_eq!(t.external_id.as_deref(), Some("G999999998"));
        assert_eq!(c.customer_billing_address.as_ref().unwrap().country_code.as_deref(), Some("BE"));
        assert_eq!(c.customer_service_desk_contact.as_ref().unwrap().first_name.as_deref(), Some("Bob"));
        assert_eq!(c.customer_custom_properties.as_ref().unwrap()[0].custom_property_value.as_deref(), Some("EU_Belgium"));
        assert_eq!(c.customer_industries.as_deref(), Some(&["SomeIndustry".to_string()][..]));
        // The article's "// Addresses" comment keys are kept, not lost and not fatal.
        assert!(c.extra.contains_key("// Addresses"));
    }

    #[test]
    fn nulls_missing_fields_and_new_fields_are_fine() {
        let c: Customer = serde_json::from_str(
            r#"{"customerId":"x","customerName":null,"customerTenants":[],"customerBillingContact":null,"newField":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(c.customer_name, None);
        assert_eq!(c.customer_tenants, Some(vec![]));
        assert_eq!(c.extra["newField"]["a"], 1);
    }
}
