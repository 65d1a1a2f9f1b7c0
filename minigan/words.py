"""The results tables' words in English and in Chinese: gettext's idea without its machinery.

A table renderer (:mod:`minigan.reproduce`, :mod:`minigan.study`, :mod:`minigan.structure`)
writes each header, cell word and note as ``t("English text with {fields}", field=value)``.
``translator("en")`` formats the English text itself; ``translator("zh")`` formats its
Chinese from :data:`ZH`, so one renderer writes both ``results/<table>.md`` (English, for
the README) and ``results/<table>.zh.md`` (Chinese, for the book) from the same data.  A
text without a Chinese entry is an error, not a silent English cell (tests render every
committed table in both languages).
"""

from __future__ import annotations

LANGS = ("en", "zh")

ZH: dict[str, str] = {
    # -- shared words ------------------------------------------------------------------------
    "yes": "是", "no": "否", "seeds": "种子", "seconds": "秒", "recipe": "配方",
    "Mean ± standard error over seeds.": "各行为跨种子的均值 ± 标准误。",
    "(baseline)": "（基线）",
    # -- minigan.agreement's verdicts ---------------------------------------------------------
    "better (both judges)": "更好（两位裁判一致）",
    "worse (both judges)": "更差（两位裁判一致）",
    "no clear difference": "无明显差别",
    "judges disagree (pooled {pooled}, strided {strided})": "裁判意见相反（池化裁判{pooled}，步长裁判{strided}）",
    "better by the {moved} judge only": "只有{moved}裁判认为更好",
    "worse by the {moved} judge only": "只有{moved}裁判认为更差",
    "lower": "降低", "higher": "升高", "unclear": "不明确", "pooled": "池化", "strided": "步长",
    # -- PacGAN's ring and grid (minigan.reproduce.toy_table) -----------------------------------
    "| method | modes (of {total}) | high quality % | reverse KL | source |":
        "| 方法 | 模式数（共 {total}） | 高质量样本 % | 反向 KL | 来源 |",
    "PacGAN Table 1 (10 trials)": "PacGAN 表 1（10 次试验）",
    "minigan GAN": "minigan GAN",
    "minigan pack {pack}": "minigan 打包 m = {pack}",
    "{seeds} seeds, all {total} modes in {all_modes}": "{seeds} 个种子，{all_modes} 个覆盖全部 {total} 个模式",
    ", decaying geometrically to {lr_end} over the last {fraction} of the steps":
        "，最后 {fraction} 的步数里按几何级数衰减到 {lr_end}",
    "minigan rows: the article's networks (hidden 128 x 3, leaky ReLU), non-saturating loss, Adam lr {lr}{decay} "
    "(both networks), beta1 {beta1}, batch {batch}, {steps} steps on {n_train} fixed samples, {n_eval} samples "
    "evaluated; {seeds} seeds per row; reverse KL = KL(histogram of high-quality samples over modes || uniform).":
        "minigan 各行：文章的网络（隐藏层 128 × 3，leaky ReLU），非饱和损失，两个网络都用 Adam，学习率 {lr}{decay}，"
        "beta1 = {beta1}，批量 {batch}；在 {n_train} 个固定样本上训练 {steps} 步，评估 {n_eval} 个样本；"
        "每行 {seeds} 个种子；反向 KL = KL(高质量样本在各模式上的直方图 ‖ 均匀分布)。",
    # -- Goodfellow et al.'s Parzen table (minigan.reproduce.parzen_table) ----------------------
    "| model | log-likelihood (nats) | sigma | source |": "| 模型 | 对数似然（nats） | σ | 来源 |",
    "Goodfellow et al. 2014, Table 1 (full MNIST test set)": "Goodfellow 等 2014，表 1（完整 MNIST 测试集）",
    "minigan, {dataset} ({n_test} test images)": "minigan，{dataset}（{n_test} 张测试图）",
    "minigan GAN samples": "minigan GAN 的样本",
    "real training images (reference)": "真实训练图像（参照）",
    "one Gaussian fitted to the training images (reference)": "拟合训练图像的单个高斯（参照）",
    "minigan rows: Parzen window on {dataset} with sigma from logspace(-1, 0, 10) chosen on the validation images "
    "and the mean ± standard error over the {n_test} test images; pixels in [0, 1].  Not the paper's test set: "
    "compare minigan's rows with each other, not with the paper's.":
        "minigan 各行：在 {dataset} 上用 Parzen 窗，σ 在 logspace(-1, 0, 10) 中按验证图像选出，"
        "报告 {n_test} 张测试图上的均值 ± 标准误；像素取值 [0, 1]。测试集不是论文的："
        "只在 minigan 的各行之间比较，不要和论文的数比较。",
    # -- digit scores (minigan.reproduce.scores_table) -------------------------------------------
    "model": "模型", "runs": "次数",
    "classes covered (of 10)": "覆盖类别（共 10）",
    "KL(class histogram ‖ uniform)": "KL(类别直方图 ‖ 均匀)",
    "confidence score (max 10)": "置信度得分（最高 10）",
    "Fréchet distance to test digits (pooled judge)": "Fréchet 距离（池化裁判）",
    "Fréchet distance to test digits (strided judge)": "Fréchet 距离（步长裁判）",
    "median distance to nearest training digit": "到最近训练数字的中位距离",
    "near copies %": "近似拷贝 %",
    "detector accuracy (0.5 = indistinguishable)": "检测器准确率（0.5 = 无法区分）",
    "minigan GAN (default recipe)": "minigan GAN（默认配方）",
    "held-out real digits (reference)": "留出的真实数字（参照）",
    "{variant}, {steps} steps (before)": "{variant}，{steps} 步（改动前）",
    "default recipe": "默认配方",
    "{model}, seed by seed ({good} of {n} with all 10 classes and class KL <= 0.03):":
        "{model}，逐个种子（{n} 个中有 {good} 个覆盖全部 10 类且类别 KL ≤ 0.03）：",
    "| seed | classes covered | class KL | Fréchet (pooled judge) | Fréchet (strided judge) | detector accuracy":
        "| 种子 | 覆盖类别 | 类别 KL | Fréchet（池化裁判） | Fréchet（步长裁判） | 检测器准确率",
    " | Fréchet before (pooled) | Fréchet before (strided) | both lower":
        " | 改动前 Fréchet（池化） | 改动前 Fréchet（步长） | 两者都降低",
    "Against {baseline}, over the shared seeds: {verdict} (paired, mean difference beyond two standard errors, "
    "`minigan.agreement`).":
        "与「{baseline}」在相同种子上配对比较：{verdict}（配对差的均值超出两个标准误才算，见 `minigan.agreement`）。",
    "{n} images per row and run, judged against the {n} {dataset} test digits.  Two judges (convolutional digit "
    "classifiers on minigan's engine, `minigan.metrics.judge`): the pooled judge (max pooling, {pooled} % right on "
    "the 1,000 held-out digits) gives the class histogram, the confidence score exp(E KL(p(y|x) || p(y))) and the "
    "Fréchet distance of its 128 penultimate features; the strided judge (strided convolutions, no pooling, "
    "{strided} % right) a second Fréchet distance.  On 500 images a Fréchet distance reads higher than on the "
    "study's 5,000.  Near copies are images closer to a training digit than 99 % of test digits are; the "
    "detector is a fresh 784-64-2 MLP trained on half of the images and half of the test digits, accuracy on the "
    "other halves.  Comparable only within minigan.":
        "每行每次 {n} 张图，与 {dataset} 的 {n} 个测试数字比较。两位裁判（minigan 引擎上的卷积数字分类器，"
        "`minigan.metrics.judge`）：池化裁判（最大池化，在 1,000 个留出数字上正确率 {pooled} %）给出类别直方图、"
        "置信度得分 exp(E KL(p(y|x) ‖ p(y))) 和它 128 维倒数第二层特征上的 Fréchet 距离；步长裁判"
        "（步长卷积、无池化，正确率 {strided} %）给出第二个 Fréchet 距离。500 张图上的 Fréchet 距离比研究里 "
        "5,000 张图上的偏高。近似拷贝：比 99 % 的测试数字更接近某个训练数字的图；检测器是新训练的 784-64-2 "
        "MLP，用一半生成图和一半测试数字训练，在另一半上测准确率。只在 minigan 内部可比。",
    # -- the recipe study (minigan.study.study_table) --------------------------------------------
    "Fréchet distance (pooled judge)": "Fréchet 距离（池化裁判）",
    "Fréchet distance (strided judge)": "Fréchet 距离（步长裁判）",
    "worst seed": "最差种子", "class KL to uniform": "类别 KL（对均匀）", "classes covered": "覆盖类别",
    "seeds with FD <= 100 and KL <= 0.05": "FD ≤ 100 且 KL ≤ 0.05 的种子",
    "against {baseline}": "对比「{baseline}」", "the default": "默认",
    "Recipes:": "配方：",
    "Every run: the article's networks (hidden 128 x 3, leaky ReLU 0.2, tanh output), Adam (D 2e-4, beta1 0.5), "
    "batch 64, {steps} steps on mnist5k's 4,000 training digits, one BLAS thread per run, two runs at a time on "
    "the machine named above.":
        "每次运行：文章的网络（隐藏层 128 × 3，leaky ReLU 0.2，tanh 输出），Adam（D 的学习率 2e-4，beta1 0.5），"
        "批量 64，在 mnist5k 的 4,000 个训练数字上训练 {steps} 步；每次运行一个 BLAS 线程，两次运行同时进行，"
        "机器见表格上方。",
    "A strided distance shows as — for runs recorded before the second judge existed.":
        "第二位裁判出现之前记录的运行，步长距离一栏显示为 —。",
    # -- the judges (minigan.study.judges_sentence) ---------------------------------------------
    "Scores of {n} samples (from the moving average of G where the recipe keeps one) by two judges, convolutional "
    "digit classifiers on minigan's engine (`minigan.metrics.judge`): the pooled judge (max pooling, {pooled_acc} % "
    "right on the 1,000 held-out digits; the 4,000 real training digits score {pooled_ref}) gives the Fréchet "
    "distance of its 128 penultimate features against the held-out digits, the class histogram, its KL to uniform "
    "and the classes with at least one sample; the strided judge (strided convolutions, no pooling, {strided_acc} % "
    "right; real training digits {strided_ref}) gives a second Fréchet distance.  A change counts as better only "
    "where both judges' distances fall (paired over seeds, mean difference beyond two standard errors, "
    "`minigan.agreement`).":
        "分数来自 {n} 个样本（配方保留 G 的滑动平均时从滑动平均里采样），由两位裁判给出，它们是 minigan 引擎上的"
        "卷积数字分类器（`minigan.metrics.judge`）：池化裁判（最大池化，在 1,000 个留出数字上正确率 {pooled_acc} %；"
        "4,000 个真实训练数字得 {pooled_ref}）给出它 128 维倒数第二层特征相对留出数字的 Fréchet 距离、类别直方图、"
        "直方图对均匀分布的 KL 和至少有一个样本的类别数；步长裁判（步长卷积、无池化，正确率 {strided_acc} %；"
        "真实训练数字得 {strided_ref}）给出第二个 Fréchet 距离。只有两位裁判的距离都下降（按种子配对，"
        "差的均值超出两个标准误，`minigan.agreement`），改动才算更好。",
    "Scores of {n} samples (from the moving average of G where the recipe keeps one) by the judge, a convolutional "
    "digit classifier on minigan's engine (`minigan.metrics.judge`, max pooling, {pooled_acc} % right on the 1,000 "
    "held-out digits; the 4,000 real training digits score {pooled_ref}): Fréchet distance of its 128 penultimate "
    "features against the held-out digits, the class histogram, its KL to uniform and the classes with at least "
    "one sample.":
        "分数来自 {n} 个样本（配方保留 G 的滑动平均时从滑动平均里采样），由裁判给出：minigan 引擎上的卷积数字"
        "分类器（`minigan.metrics.judge`，最大池化，在 1,000 个留出数字上正确率 {pooled_acc} %；4,000 个真实训练"
        "数字得 {pooled_ref}）——它 128 维倒数第二层特征相对留出数字的 Fréchet 距离、类别直方图、直方图对均匀"
        "分布的 KL 和至少有一个样本的类别数。",
    # -- the study's recipes (minigan.study.VARIANTS) ----------------------------------------
    "the article's recipe: labels 1/0, Adam 2e-4 for both, no remedy":
        "文章的配方：标签 1/0，两个网络都用 Adam 2e-4，不用任何补救",
    "one-sided label smoothing 0.9, G's rate 2x (the previous default)":
        "单侧标签平滑 0.9，G 的学习率为 D 的 2 倍（之前的默认）",
    "smoothing + dropout 0.3 in D": "smoothing + D 中 dropout 0.3",
    "smoothing + random +-2 px translation of D's inputs": "smoothing + 对 D 的输入随机平移 ±2 像素",
    "smoothing + EMA of G (0.999) + linear lr decay over the second half":
        "smoothing + G 的滑动平均（0.999）+ 后半程学习率线性衰减",
    "smoothing + dropout 0.3 + translation 2": "smoothing + dropout 0.3 + 平移 2",
    "smoothing + dropout + translation + EMA + lr decay": "smoothing + dropout + 平移 + 滑动平均 + 学习率衰减",
    "all four + spectral normalisation of D": "all four + D 的谱归一化",
    "all four + instance noise (sigma 0.1, annealed to 0)": "all four + 实例噪声（σ 0.1，退火到 0）",
    "smoothing + dropout + translation + EMA of G (constant learning rates)":
        "smoothing + dropout + 平移 + G 的滑动平均（学习率不变）",
    "+dropout+translate+ema with both learning rates doubled (D 4e-4, G 8e-4): the default recipe":
        "+dropout+translate+ema，两个学习率都加倍（D 4e-4，G 8e-4）：默认配方",
    "+dropout+translate+ema with both learning rates four times higher (D 8e-4, G 1.6e-3)":
        "+dropout+translate+ema，两个学习率都乘 4（D 8e-4，G 1.6e-3）",
    "+dropout+translate+ema lr x2 with the learning rates decaying linearly to 0 over the last 20 % of the steps":
        "+dropout+translate+ema lr x2，学习率在最后 20 % 的步数里线性衰减到 0",
    "+dropout+translate+ema lr x2 with a slower moving average of G (decay 0.9995, about the last 2,000 steps "
    "instead of 1,000)":
        "+dropout+translate+ema lr x2，G 的滑动平均更慢（衰减 0.9995，约平均最后 2,000 步而不是 1,000 步）",
    "+dropout+translate+ema with the learning rates decaying linearly to 0 over the last 20 % of the steps":
        "+dropout+translate+ema，学习率在最后 20 % 的步数里线性衰减到 0",
    "smoothing + dropout + translation + packing (D judges pairs, PacGAN m = 2)":
        "smoothing + dropout + 平移 + 打包（D 成对判断，PacGAN m = 2）",
    # -- time to quality (minigan.study.time_table) ---------------------------------------------
    "| recipe | Fréchet threshold | seeds reaching it | seconds to get there | steps to get there |":
        "| 配方 | Fréchet 阈值 | 达到的种子 | 所需秒数 | 所需步数 |",
    "not within {max_steps} steps": "{max_steps} 步内未达到",
    "default": "默认", "article (--preset article)": "文章（--preset article）",
    "Training time only (scoring excluded), one BLAS thread per run.  Every {every} steps the judge scores {n} "
    "samples (fewer than the study's 5,000, so a somewhat higher Fréchet distance); a run stops once it has reached "
    "every threshold, or after {max_steps} steps.  Means ± standard errors over the seeds that got there.":
        "只计训练时间（不含打分），每次运行一个 BLAS 线程。每 {every} 步裁判给 {n} 个样本打分（比研究的 5,000 个少，"
        "所以 Fréchet 距离略高）；一次运行达到全部阈值或训练满 {max_steps} 步就停。均值 ± 标准误只算到达阈值的种子。",
    "Both judges along the way (mean over seeds; **bold**: the scorings next to the default length, {steps} steps):":
        "两位裁判一路上的分数（跨种子均值；**粗体**：默认长度 {steps} 步两侧的两次打分）：",
    "Both judges along the way (mean over seeds):": "两位裁判一路上的分数（跨种子均值）：",
    "| recipe | step | seconds | Fréchet (pooled judge) | Fréchet (strided judge) |":
        "| 配方 | 步 | 秒 | Fréchet（池化裁判） | Fréchet（步长裁判） |",
    # -- the structure study (minigan.structure.structure_table) --------------------------------
    "### At the {label} run's wall time: {seconds} s of training":
        "### 与 {label}运行同样的墙钟时间：训练 {seconds} 秒",
    "mlp default": "mlp 默认", "dcgan default": "dcgan 默认",
    "networks": "网络", "steps": "步数", "classes": "类别", "time per step": "每步时间",
    "Networks:": "网络：",
    "Every run: mnist5k's 4,000 training digits, batch 64, the recipe `minigan train` uses for those networks, one "
    "BLAS thread, two runs at a time; the number of steps is the budget divided by the row's time per step, "
    "measured first on this machine with nothing else running.":
        "每次运行：mnist5k 的 4,000 个训练数字，批量 64，`minigan train` 给这种网络用的配方，一个 BLAS 线程，"
        "两次运行同时进行；步数 = 时间预算 ÷ 该行的每步时间，每步时间事先在同一台机器上、没有别的任务时测得。",
    "the article's networks (hidden 3 x 128, 147k parameters in G), the default recipe":
        "文章的网络（隐藏层 3 × 128，G 有 14.7 万个参数），默认配方",
    "hidden 3 x 256 in G and D (G 359k parameters, about as many as DCGAN's G): size without structure":
        "G 和 D 的隐藏层都是 3 × 256（G 有 35.9 万个参数，与 DCGAN 的 G 相当）：只加大小、不加结构",
    "DCGAN's generator (347k parameters) with the article's discriminator: structure in G only":
        "DCGAN 的生成器（34.7 万个参数）配文章的判别器：只有 G 有结构",
    "the DCGAN without batch norm in G and D (today's default --arch dcgan)":
        "去掉 G 和 D 中批归一化的 DCGAN（现在 `--arch dcgan` 的默认）",
    "the DCGAN: transposed convolutions and batch norm in G, strided convolutions and batch norm in D":
        "DCGAN：G 用转置卷积和批归一化，D 用步长卷积和批归一化",
}


def translator(lang: str):
    """``t(text, **values)``: ``text`` (English) or its Chinese from :data:`ZH`, formatted
    with ``values`` (``str.format``) when any are given."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")

    def t(text: str, **values) -> str:
        if lang == "zh":
            if text not in ZH:
                raise KeyError(f"no Chinese for results text {text!r} (add it to minigan.words.ZH)")
            text = ZH[text]
        return text.format(**values) if values else text

    return t


def gap(lang: str) -> str:
    """What goes between two sentences: two spaces in English, nothing after Chinese "。"."""
    return "  " if lang == "en" else ""


def item(lang: str, name: str, text: str) -> str:
    """A Markdown list item naming ``name`` (an identifier, kept as it is) and saying ``text``."""
    return f"- **{name}**: {text}." if lang == "en" else f"- **{name}**：{text}。"


def provenance(header: str, lang: str) -> str:
    """``header`` (the ``<!-- written by `command` on DATE; machine: ...; T minutes -->``
    line of a results table) for a reader of ``lang``: the comment as it is in English; in
    Chinese the comment followed by a visible line naming the command, date and machine."""
    import re

    if lang == "en" or not header.strip():
        return header
    command = re.search(r"`(minigan [^`]*)`", header)
    date = re.search(r"\d{4}-\d{2}-\d{2}", header)
    machine = re.search(r"machine: (.+?)(?:;|\s*-->)", header)
    parts = [f"命令 `{command.group(1)}`" if command else "", f"日期 {date.group(0)}" if date else "",
             f"机器：{machine.group(1)}" if machine else ""]
    return header.rstrip("\n") + "\n\n" + "本表的来源：" + "；".join(p for p in parts if p) + "。\n\n"
