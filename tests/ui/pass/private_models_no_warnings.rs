// Private models in a binary that uses little of the generated API compile
// under `#![deny(warnings)]` (no unused functions, traits or imports in the
// generated code) and under the stricter allow-by-default lints users enable.

#![deny(
    warnings,
    rust_2018_idioms,
    unused_qualifications,
    unused_results,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    unreachable_pub
)]

use orm_core::prelude::*;

#[derive(Model, Clone)]
struct User {
    id: Option<i64>,
    #[field(max_length = 150)]
    username: String,
}

#[derive(Model, Clone)]
struct Profile {
    id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    user: OneToOne<User>,
    #[one_to_one(on_delete = "set(0)", related_name = "+")]
    reviewer: OneToOne<User>,
    #[one_to_one(on_delete = "set_default", default = 1, related_name = "backup_of")]
    backup: OneToOne<User>,
}

#[derive(Model, Clone)]
struct Place {
    id: Option<i64>,
}

#[derive(Model, Clone)]
struct Bar {
    #[parent]
    place: Place,
    #[field(blank)]
    motto: String,
}

fn main() {
    let _ = (User::META, Profile::META, Bar::META);
}
