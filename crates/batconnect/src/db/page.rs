//! Pagination shared by every list endpoint.

use serde::Serialize;

use crate::error::{AppError, FieldError};

pub const MAX_PER_PAGE: i64 = 100;

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    /// Validates `page` (≥ 1) and `per_page` (1–100) given as raw query text.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<PageRequest, AppError> {
        let mut errors = Vec::new();
        let page = parse_bounded(page, "page", 1, i64::MAX / MAX_PER_PAGE, 1, &mut errors);
        let per_page = parse_bounded(per_page, "per_page", 1, MAX_PER_PAGE, 20, &mut errors);
        if errors.is_empty() {
            Ok(PageRequest { page, per_page })
        } else {
            Err(AppError::Validation(errors))
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

fn parse_bounded(
    raw: Option<&str>,
    name: &str,
    min: i64,
    max: i64,
    default: i64,
    errors: &mut Vec<FieldError>,
) -> i64 {
    match raw {
        None => default,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    name,
                    format!("must be a whole number from {min} to {max}"),
                ));
                default
            }
        },
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total_items: i64,
    pub page: i64,
    pub per_page: i64,
    pub total_pages: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total_items: i64, request: PageRequest) -> Page<T> {
        Page {
            items,
            total_items,
            page: request.page,
            per_page: request.per_page,
            total_pages: (total_items + request.per_page - 1) / request.per_page,
        }
    }
}
