//! A `to_field` cycle (`A.b -> B.a -> A.b`) has no column type to end at:
//! `migrate` (and saving a value) followed it until the stack overflowed,
//! aborting the process. It is now a system check, so `Db::open` refuses.
//!
//! Its own test binary: the registry holds every model linked into the
//! program, so these models would make every other test's `Db::open` fail.

use orm_core::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(app = "nopanic_schema")]
pub struct CycA {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", to_field = "a", related_name = "cyc_a")]
    pub b: Option<OneToOne<CycB>>,
}

#[derive(Model, Debug, Clone)]
#[model(app = "nopanic_schema")]
pub struct CycB {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", to_field = "b", related_name = "cyc_b")]
    pub a: Option<OneToOne<CycA>>,
}

#[test]
fn to_field_cycle_is_a_check_error_not_a_stack_overflow() {
    let r = Db::open_in_memory().and_then(|db| db.migrate());
    match r {
        Err(Error::Check(errors)) => {
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains("CycA.b -> CycB.a -> CycA.b")),
                "{errors:?}"
            );
            assert_eq!(errors.len(), 2, "{errors:?}");
        }
        other => panic!("expected Error::Check, got {other:?}"),
    }
}
