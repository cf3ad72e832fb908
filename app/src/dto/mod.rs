//! Wire types shared by the REST API, the server functions and the UI.
//! Grouped by area, as the server's services are.
pub mod admin;
pub mod campaigns;
pub mod catalog;
pub mod compliance;
pub mod d3fend;
pub mod detection;
pub mod intel;
pub mod jobs;
pub mod knowledge;
pub mod notifications;
pub mod reporting;
pub mod scoring;
pub mod webhooks;
pub mod workflow;

use serde::{Deserialize, Serialize};

/// The one pagination shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

/// In the API description: `Page_<T>`, one component per item type, with `T`'s own.
#[cfg(feature = "ssr")]
impl<T: utoipa::ToSchema> utoipa::PartialSchema for Page<T> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type,
        };
        let count = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        };
        let item = utoipa::openapi::RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()));
        ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(item))
            .required("items")
            .property("total", count())
            .required("total")
            .property("limit", count())
            .required("limit")
            .property("offset", count())
            .required("offset")
            .into()
    }
}

#[cfg(feature = "ssr")]
impl<T: utoipa::ToSchema> utoipa::ToSchema for Page<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(format!("Page_{}", T::name()))
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;
