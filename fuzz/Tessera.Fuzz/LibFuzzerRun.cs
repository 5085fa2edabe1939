using SharpFuzz;

namespace Tessera.Fuzz;

/// <summary>
/// The coverage-guided run: this process under fuzz/libfuzzer-dotnet (libFuzzer's mutations, coverage from the
/// SharpFuzz-instrumented Tessera assemblies through shared memory). A finding is thrown out of the action, which
/// SharpFuzz reports as a crash; libFuzzer then saves the input.
/// </summary>
internal static class LibFuzzerRun
{
    public static void Run(FuzzTarget target)
    {
        Fuzzer.LibFuzzer.Run(input =>
        {
            var outcome = FuzzCheck.Run(target, input);
            if (outcome.IsFinding)
            {
                Console.Error.WriteLine($"tessera-fuzz {target.Name}: {outcome.Failure}");
                throw new FuzzFindingException(outcome.Failure);
            }
        });
    }
}
