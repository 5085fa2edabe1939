namespace Tessera.Fuzz;

/// <summary>
/// The property every target must hold for every input: it parses, or it throws one of the target's typed errors with
/// a one-line message; never another exception; never more allocation than the target's bound for the input's length.
/// Time is bounded by the caller (the mutation driver, libFuzzer's -timeout).
/// </summary>
internal static class FuzzCheck
{
    public static FuzzOutcome Run(FuzzTarget target, ReadOnlySpan<byte> input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        FuzzOutcome outcome;
        try
        {
            target.Parse(input);
            outcome = new FuzzOutcome(FuzzOutcomeKind.Parsed);
        }
        catch (Exception e) when (target.IsRefusal(e))
        {
            outcome = e.Message.Length == 0 || e.Message.Contains('\n')
                ? new FuzzOutcome(FuzzOutcomeKind.Finding, $"{e.GetType().Name} without a one-line message: \"{e.Message}\"")
                : new FuzzOutcome(FuzzOutcomeKind.Refused, e.Message);
        }
        catch (Exception e)
        {
            outcome = new FuzzOutcome(FuzzOutcomeKind.Finding, $"unexpected {e.GetType().FullName}: {e.Message}\n{e.StackTrace}");
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = target.AllocationBound(input.Length);
        if (target.MeasuresAllocation && allocated > bound && !outcome.IsFinding)
        {
            outcome = new FuzzOutcome(FuzzOutcomeKind.Finding, $"allocated {allocated} bytes for a {input.Length}-byte input (bound {bound})");
        }

        return outcome;
    }
}
