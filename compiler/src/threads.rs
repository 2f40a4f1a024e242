//! Work in runs on several threads, joined in order.

/// `first` applied to the first run on this thread, and `rest` to each other run on a thread
/// of its own; the results of `rest` in the order of the runs.
pub(crate) fn run<T: Send, F, R: Send>(
    runs: Vec<Vec<T>>,
    first: impl FnOnce(Vec<T>) -> F,
    rest: impl Fn(Vec<T>) -> R + Sync,
) -> (F, Vec<R>) {
    let mut runs = runs.into_iter();
    let run_one = runs.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let rest = &rest;
        let others: Vec<_> = runs.map(|run| scope.spawn(move || rest(run))).collect();
        let done = first(run_one);
        let others = others.into_iter().map(|other| {
            // A run's thread ends early only by panicking: the panic goes on.
            other
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        });
        (done, others.collect())
    })
}
