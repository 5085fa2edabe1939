using Tessera.Cli.Conformance;

namespace Tessera.Tests.Conformance;

/// <summary>
/// Issue 2's second bar: models exported by PyTorch and the PP-OCR models agree with onnxruntime-node 1.30.0
/// (cases written by conformance/make-ort-cases.py) within atol 1e-4, rtol 1e-3.
/// </summary>
public sealed class OrtConformanceTests
{
    private const double Atol = 1e-4;
    private const double Rtol = 1e-3;

    // The cases make-ort-cases.py writes; listed so that a case missing from the cache fails instead of vanishing.
    private static readonly string[] s_expected =
    [
        "bert_b1_s16", "bert_b3_s32", "dense_b1", "dense_b16", "gpt_b1_s16", "gpt_b2_s24",
        "ppocr_cls_b1_48x192", "ppocr_cls_b6_48x192", "ppocr_det_b1_320x320", "ppocr_det_b2_256x320",
        "ppocr_rec_b1_48x320", "ppocr_rec_b4_48x320", "resnet18_b1", "resnet18_b2",
    ];

    public static TheoryData<string> Cases()
    {
        var names = new SortedSet<string>(s_expected, StringComparer.Ordinal);
        if (Directory.Exists(TestPaths.OrtCases))
        {
            foreach (string dir in Directory.EnumerateDirectories(TestPaths.OrtCases))
            {
                string name = Path.GetFileName(dir);
                if (!name.StartsWith('.'))
                {
                    names.Add(name);
                }
            }
        }

        return new TheoryData<string>(names);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesOnnxRuntime(string caseName)
    {
        string dir = TestPaths.Require(Path.Combine(TestPaths.OrtCases, caseName));
        var result = BackendTestRunner.RunCase(dir, Atol, Rtol);
        Assert.True(result.Outcome == CaseOutcome.Passed,
            $"{result.Format()} (max |diff| {result.MaxAbsDiff:G3}, max relative diff {result.MaxRelDiff:G3})");
    }
}
