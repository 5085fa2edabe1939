using SharpFuzz;

namespace Tessera.Fuzz;

/// <summary>
/// The coverage-guided run: this process under fuzz/libfuzzer-dotnet (libFuzzer's mutations, coverage from the
/// SharpFuzz-instrumented Tessera assemblies through shared memory). A finding is thrown out of the action, which
/// SharpFuzz reports as a crash; libFuzzer then saves the input.
/// </summary>
internal static class LibFuzzerRun
{
    public static void Run(string name)
    {
        // Made on the first input: instrumented code (a target's constructor) may run only once SharpFuzz has mapped the coverage memory.
        FuzzTarget? target = null;
        Fuzzer.LibFuzzer.Run(input =>
        {
            target ??= FuzzTargets.Create(name);
            var outcome = FuzzCheck.Run(target, input);
            if (outcome.IsFinding)
            {
                Console.Error.WriteLine($"tessera-fuzz {name}: {outcome.Failure}");
                throw new FuzzFindingException(outcome.Failure);
            }
        });
    }
}
