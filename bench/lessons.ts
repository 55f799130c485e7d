/**
 * Deterministic lesson payloads in the flat page format of POST /api/v2/pages/:
 * 20 blocks of heading, paragraph (rich text), code, jupyter, text and block_quote,
 * about 8-10 KB of JSON each. Every fourth lesson has a Korean title and prose.
 */

export interface Block {
  type: string;
  value: unknown;
}

export interface LessonPayload {
  type: 'lesson';
  title: string;
  intro: string;
  environment: string;
  publish: boolean;
  body: Block[];
}

export const BLOCKS_PER_LESSON = 20;

const TOPICS_EN = [
  'Tensors and Broadcasting', 'Automatic Differentiation', 'Gradient Descent', 'Linear Regression from Scratch',
  'Logistic Regression', 'Multilayer Perceptrons', 'Convolutional Networks', 'Batch Normalization',
  'Dropout and Regularization', 'Recurrent Networks', 'Attention Mechanisms', 'Transformers in Practice',
  'Mixed Precision Training', 'Data Loaders and Datasets', 'Learning Rate Schedules', 'Model Checkpointing',
];

const TOPICS_KO = [
  '텐서와 브로드캐스팅', '자동 미분의 원리', '경사 하강법 따라잡기', '선형 회귀 직접 구현하기',
  '로지스틱 회귀', '다층 퍼셉트론', '합성곱 신경망', '배치 정규화',
  '드롭아웃과 규제', '순환 신경망', '어텐션 메커니즘', '트랜스포머 실습',
];

const PROSE_EN = [
  'A <b>tensor</b> is a multi-dimensional array that can live on the CPU or on a GPU. Most operations you know from NumPy have a direct counterpart, and PyTorch records them so that gradients can be computed later.',
  'When two tensors of different shapes meet in an arithmetic operation, <i>broadcasting</i> stretches the smaller one along the missing dimensions without copying memory. Read shapes from the right and compare them pair by pair.',
  'The training loop has four steps: compute the predictions, compute the loss, call <code>loss.backward()</code> to fill the <code>.grad</code> fields, and let the optimizer update the parameters. Do not forget to zero the gradients.',
  'A learning rate that is too large makes the loss oscillate or diverge; one that is too small wastes compute. Start with <code>1e-3</code> for Adam and watch the curve during the first few hundred steps.',
  'Moving a model to the GPU is a single call, <code>model.to("cuda")</code>, but every input batch has to follow it. Mixing devices in one operation raises an error that names both devices.',
  'See the <a href="https://pytorch.org/docs/stable/index.html">PyTorch documentation</a> for the full list of operations. The tutorials there follow the same order as this course.',
];

const PROSE_KO = [
  '<b>텐서</b>는 CPU나 GPU 위에 놓일 수 있는 다차원 배열입니다. NumPy에서 익숙한 연산 대부분을 그대로 쓸 수 있고, PyTorch는 나중에 기울기를 계산할 수 있도록 연산 과정을 기록합니다.',
  '모양이 다른 두 텐서를 더하면 <i>브로드캐스팅</i>이 작은 쪽을 빠진 차원으로 늘려 줍니다. 메모리를 복사하지 않으며, 모양은 오른쪽부터 한 쌍씩 비교합니다.',
  '학습 루프는 네 단계입니다. 예측을 계산하고, 손실을 계산하고, <code>loss.backward()</code>로 기울기를 채운 뒤, 옵티마이저가 파라미터를 갱신합니다. 기울기를 0으로 되돌리는 것을 잊지 마세요.',
  '학습률이 너무 크면 손실이 출렁이거나 발산하고, 너무 작으면 계산을 낭비합니다. Adam이라면 <code>1e-3</code>에서 시작해 처음 몇 백 스텝의 곡선을 지켜보세요.',
];

const CODE_SNIPPETS: { language: string; source: string }[] = [
  { language: 'python', source: 'import torch\n\nx = torch.randn(64, 3, 32, 32)\nconv = torch.nn.Conv2d(3, 16, kernel_size=3, padding=1)\ny = conv(x)\nprint(y.shape)  # torch.Size([64, 16, 32, 32])' },
  { language: 'python', source: 'model = torch.nn.Sequential(\n    torch.nn.Linear(784, 256),\n    torch.nn.ReLU(),\n    torch.nn.Linear(256, 10),\n)\noptimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\nloss_fn = torch.nn.CrossEntropyLoss()' },
  { language: 'bash', source: 'pip install torch torchvision --index-url https://download.pytorch.org/whl/cu121\npython -c "import torch; print(torch.__version__, torch.cuda.is_available())"' },
  { language: 'python', source: 'for epoch in range(10):\n    for xb, yb in loader:\n        optimizer.zero_grad()\n        loss = loss_fn(model(xb), yb)\n        loss.backward()\n        optimizer.step()\n    print(epoch, loss.item())' },
];

const CELLS = [
  'import torch\na = torch.arange(12).reshape(3, 4)\nb = torch.tensor([10, 20, 30, 40])\nprint(a + b)\nprint((a + b).shape)',
  'w = torch.tensor(2.0, requires_grad=True)\nloss = (w * 3 - 12) ** 2\nloss.backward()\nprint(w.grad)  # d/dw (3w - 12)^2 = 6(3w - 12)',
  'device = "cuda" if torch.cuda.is_available() else "cpu"\nx = torch.randn(1024, 1024, device=device)\ny = x @ x.T\nprint(device, y.mean().item())',
  'from torch.utils.data import DataLoader, TensorDataset\nds = TensorDataset(torch.randn(100, 4), torch.randint(0, 2, (100,)))\nfor xb, yb in DataLoader(ds, batch_size=32, shuffle=True):\n    print(xb.shape, yb.shape)',
];

const QUOTES = [
  'Premature optimization is the root of all evil. — Donald Knuth',
  'All models are wrong, but some are useful. — George Box',
  '실패는 성공의 어머니이다.',
];

/** The block types of each position: the same mix in every lesson. */
const LAYOUT = [
  'heading', 'paragraph', 'paragraph', 'code', 'jupyter', 'text', 'heading', 'paragraph', 'jupyter', 'block_quote',
  'paragraph', 'code', 'heading', 'paragraph', 'jupyter', 'text', 'paragraph', 'code', 'block_quote', 'paragraph',
] as const;

/** A comment block on top of every code block and cell (source text is a large part of real lessons). */
const codeHeader = (i: number, k: number, topic: string) =>
  `# Lesson ${i}, block ${k + 1}: ${topic}\n# Runs on the pytorch-2.4-cuda environment; on a CPU it works too, only slower.\n# Change a shape or a hyperparameter and run it again to see what changes.\n`;

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

export function isKorean(i: number): boolean {
  return i % 4 === 0;
}

export function lessonTitle(i: number): string {
  return isKorean(i)
    ? `Lesson ${i}: ${pick(TOPICS_KO, i)} (${Math.ceil(i / 4)}강)`
    : `Lesson ${i}: ${pick(TOPICS_EN, i)}, part ${1 + (i % 7)}`;
}

/** Lesson `i` (1-based). */
export function lessonPayload(i: number): LessonPayload {
  const ko = isKorean(i);
  const prose = ko ? PROSE_KO : PROSE_EN;
  const topic = ko ? pick(TOPICS_KO, i) : pick(TOPICS_EN, i);
  let section = 0;
  const body: Block[] = LAYOUT.map((type, k): Block => {
    const n = i + k;
    switch (type) {
      case 'heading':
        section++;
        return { type, value: ko ? `${section}. ${topic} — ${section}부` : `${section}. ${topic}: section ${section} of lesson ${i}` };
      case 'paragraph':
        return { type, value: `<p>${pick(prose, n)} ${pick(prose, n + 2)}</p><p>${pick(prose, n + 1)}</p>` };
      case 'code':
        return { type, value: { ...pick(CODE_SNIPPETS, n), source: `${codeHeader(i, k, topic)}${pick(CODE_SNIPPETS, n).source}` } };
      case 'jupyter':
        return { type, value: { code: `${codeHeader(i, k, topic)}${pick(CELLS, n)}`, kernel: 'python3' } };
      case 'text':
        return { type, value: ko
          ? `연습 ${i}-${k + 1}: 위 셀의 값을 바꿔 실행해 보고 결과가 어떻게 달라지는지 적어 보세요. 배치 크기, 학습률, 장치를 하나씩 바꿔 봅니다. 결과가 예상과 다르다면 텐서의 모양과 장치를 먼저 출력해 확인하세요.`
          : `Exercise ${i}-${k + 1}: change one value in the cell above, run it again and write down what changed. Try the batch size, the learning rate and the device, one at a time. When a result surprises you, print the shape and the device of every tensor involved before anything else.` };
      case 'block_quote':
        return { type, value: pick(QUOTES, n) };
    }
  });
  return {
    type: 'lesson',
    title: lessonTitle(i),
    intro: ko
      ? `${topic}을(를) 직접 실행해 보며 익힙니다. 이 강의의 셀은 GPU 커널에서 실행됩니다. (레슨 ${i})`
      : `We work through ${topic.toLowerCase()} with runnable cells on a GPU kernel. (lesson ${i})`,
    environment: 'pytorch-2.4-cuda',
    publish: true,
    body,
  };
}
