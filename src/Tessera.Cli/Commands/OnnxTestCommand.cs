using System.CommandLine;
using Tessera.Cli.Conformance;

namespace Tessera.Cli.Commands;

/// <summary>`tessera onnx-test`: runs backend-test cases and prints PASS/FAIL/SKIP per case and a summary line.</summary>
internal static class OnnxTestCommand
{
    public static Command Create()
    {
        var dirs = new Argument<string[]>("DIR") { Description = "case folders, or folders to search for them", Arity = ArgumentArity.OneOrMore };
        var atol = new Option<double>("--atol") { Description = "absolute tolerance", DefaultValueFactory = _ => 1e-7 };
        var rtol = new Option<double>("--rtol") { Description = "relative tolerance", DefaultValueFactory = _ => 1e-3 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => 1 };
        var report = new Option<string?>("--report") { Description = "also write per-case results and largest differences to this JSON file" };

        var command = new Command("onnx-test", "Run ONNX backend-test cases (model.onnx + test_data_set_N) and compare outputs") { dirs, atol, rtol, threads, report };
        command.SetAction(parse =>
        {
            var cases = BackendTestRunner.FindCases(parse.GetValue(dirs)!);
            int passed = 0, failed = 0, skipped = 0;
            var results = new List<CaseResult>(cases.Count);
            foreach (string dir in cases)
            {
                var result = BackendTestRunner.RunCase(dir, parse.GetValue(atol), parse.GetValue(rtol), parse.GetValue(threads));
                results.Add(result);
                Console.WriteLine(result.Format());
                switch (result.Outcome)
                {
                    case CaseOutcome.Passed: passed++; break;
                    case CaseOutcome.Failed: failed++; break;
                    default: skipped++; break;
                }
            }

            string? reportPath = parse.GetValue(report);
            if (reportPath is not null)
            {
                ReportWriter.Write(reportPath, parse.GetValue(atol), parse.GetValue(rtol), results, cases);
            }

            Console.WriteLine($"onnx-test: {passed} passed, {failed} failed, {skipped} skipped");
            return failed > 0 ? 1 : 0;
        });
        return command;
    }
}
