namespace Tessera.Cli.Ocr;

/// <summary>What the demo's pages say: the project's own subject in Chinese and English, and digits; one line upside down for the orientation model to turn.</summary>
internal static class DemoText
{
    public static IReadOnlyList<IReadOnlyList<(string Text, bool UpsideDown)>> Pages { get; } =
    [
        [
            ("深度学习模型的分布式推理", false),
            ("data parallel, pipeline parallel, tensor parallel", false),
            ("流水线并行把模型切成多个阶段", false),
            ("2026年12月5日，批量大小为32", false),
        ],
        [
            ("张量并行在多台机器之间拆分矩阵乘法", false),
            ("ONNX models split across many machines", false),
            ("0123456789", false),
            ("圆周率3.1416，自然常数2.7183", false),
            ("每个工作进程处理一部分批次", true),
        ],
    ];
}
