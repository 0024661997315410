"""Correct answers written the way students write them, not the way the solutions do.

``VARIANTS[assignment][grade_id]`` holds at least two full answer-cell sources per graded TODO,
each in a style the solution does not use (explicit zero states in float32, ``nn.RNNCell`` /
``nn.LSTMCell`` loops, packing instead of gathering, loops instead of vectorised code,
``torch.autograd.grad`` instead of ``retain_grad``). ``tests/test_fair_scores.py`` grades
notebooks built from them through the real autograder: every one must score full marks.
"""

PAIR = [
    'your_name, your_partner_name = "Ada Lovelace", "self"\n',
    "# we worked together\nyour_name = 'Grace Hopper'\nyour_partner_name = 'Alan Turing'\n"
    "print(your_name, your_partner_name)\n",
]

NB01 = {
    "pair_names": PAIR,
    "rnn_forward": [
        # row-vector convention, a list of states, log-sum-exp loss
        '''def rnn_forward(X, params, target, h0=None):
    H_ = params["W_hh"].shape[0]
    h = np.zeros(H_) if h0 is None else np.array(h0, dtype=float)
    states = [h]
    for x in X:
        h = np.tanh(x @ params["W_xh"].T + h @ params["W_hh"].T + params["b_h"])
        states.append(h)
    hs = np.stack(states)
    logits = params["W_hy"] @ hs[-1] + params["b_y"]
    m = logits.max()
    log_z = m + np.log(np.sum(np.exp(logits - m)))
    probs = np.exp(logits - log_z)
    loss = float(log_z - logits[target])
    return hs, loss, probs
''',
        # preallocated array filled with an index loop; softmax_cross_entropy from the notebook
        '''def rnn_forward(X, params, target, h0=None):
    T_, H_ = len(X), len(params["b_h"])
    hs = np.empty((T_ + 1, H_))
    hs[0] = 0.0 if h0 is None else h0
    for t in range(T_):
        z = params["W_xh"].dot(X[t]) + params["W_hh"].dot(hs[t]) + params["b_h"]
        hs[t + 1] = np.tanh(z)
    loss, probs = softmax_cross_entropy(params["W_hy"].dot(hs[T_]) + params["b_y"], target)
    return hs, loss, probs
''',
    ],
    "rnn_backward": [
        # collect dz for every step, then the parameter gradients as matrix products
        '''def rnn_backward(X, hs, probs, target, params):
    T_ = X.shape[0]
    dy = probs.copy()
    dy[target] -= 1
    dh = np.zeros((T_, hs.shape[1]))
    dz = np.zeros_like(dh)
    g = params["W_hy"].T @ dy
    for t in reversed(range(T_)):
        dh[t] = g
        dz[t] = g * (1 - hs[t + 1] ** 2)
        g = params["W_hh"].T @ dz[t]
    grads = {"W_xh": dz.T @ X, "W_hh": dz.T @ hs[:-1], "b_h": dz.sum(axis=0),
             "W_hy": np.outer(dy, hs[-1]), "b_y": dy}
    return dh, grads
''',
        # a running dh_next and += in a 1-based loop
        '''def rnn_backward(X, hs, probs, target, params):
    W_hh, W_hy = params["W_hh"], params["W_hy"]
    onehot = np.zeros_like(probs)
    onehot[target] = 1.0
    dlogits = probs - onehot
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    grads["W_hy"] += np.outer(dlogits, hs[-1])
    grads["b_y"] += dlogits
    dh = np.zeros((len(X), W_hh.shape[0]))
    dh_next = W_hy.T @ dlogits
    for t in range(len(X), 0, -1):
        dh[t - 1] = dh_next
        da = dh_next * (1 - hs[t] * hs[t])
        grads["W_xh"] += np.outer(da, X[t - 1])
        grads["W_hh"] += np.outer(da, hs[t - 1])
        grads["b_h"] += da
        dh_next = W_hh.T @ da
    return dh, grads
''',
    ],
    "gru_forward": [
        # lists stacked at the end, sigmoid written out
        '''def gru_forward(X, params, target, h0=None):
    p = params
    h = np.zeros(p["W_hz"].shape[0]) if h0 is None else np.asarray(h0, dtype=float)
    hs, rs, zs, ns = [h], [], [], []
    for x in X:
        r = 1 / (1 + np.exp(-(p["W_xr"] @ x + p["W_hr"] @ h + p["b_r"])))
        z = 1 / (1 + np.exp(-(p["W_xz"] @ x + p["W_hz"] @ h + p["b_z"])))
        n = np.tanh(p["W_xn"] @ x + p["b_xn"] + r * (p["W_hn"] @ h + p["b_hn"]))
        h = (1 - z) * n + z * h
        hs.append(h); rs.append(r); zs.append(z); ns.append(n)
    logits = p["W_hy"] @ h + p["b_y"]
    e = np.exp(logits - np.max(logits))
    probs = e / e.sum()
    loss = -np.log(probs[target])
    return np.array(hs), float(loss), probs, {"r": np.array(rs), "z": np.array(zs), "n": np.array(ns)}
''',
        # the input and hidden projections of all gates at once (stacked weights)
        '''def gru_forward(X, params, target, h0=None):
    p = params
    H_ = p["W_hr"].shape[0]
    W_x = np.vstack([p["W_xr"], p["W_xz"]])
    W_h = np.vstack([p["W_hr"], p["W_hz"]])
    b = np.concatenate([p["b_r"], p["b_z"]])
    hs = np.zeros((len(X) + 1, H_))
    if h0 is not None:
        hs[0] = h0
    gates = {"r": np.zeros((len(X), H_)), "z": np.zeros((len(X), H_)), "n": np.zeros((len(X), H_))}
    for t, x in enumerate(X):
        rz = sigmoid(W_x @ x + W_h @ hs[t] + b)
        r, z = rz[:H_], rz[H_:]
        n = np.tanh(p["W_xn"] @ x + p["b_xn"] + r * (p["W_hn"] @ hs[t] + p["b_hn"]))
        hs[t + 1] = n + z * (hs[t] - n)
        gates["r"][t], gates["z"][t], gates["n"][t] = r, z, n
    loss, probs = softmax_cross_entropy(p["W_hy"] @ hs[-1] + p["b_y"], target)
    return hs, loss, probs, gates
''',
    ],
    "gru_backward": [
        # each path as its own term, zero-based loop
        '''def gru_backward(X, hs, gates, probs, target, params):
    p = params
    T_ = len(X)
    dlogits = probs - np.eye(len(probs))[target]
    dh = np.zeros((T_, hs.shape[1]))
    dh[T_ - 1] = p["W_hy"].T @ dlogits
    for i in range(T_ - 1, 0, -1):
        g, h_prev = dh[i], hs[i]
        r, z, n = gates["r"][i], gates["z"][i], gates["n"][i]
        copy_path = g * z
        a_n = g * (1 - z) * (1 - n ** 2)
        through_n = p["W_hn"].T @ (a_n * r)
        a_r = a_n * (p["W_hn"] @ h_prev + p["b_hn"]) * r * (1 - r)
        through_r = p["W_hr"].T @ a_r
        a_z = g * (h_prev - n) * z * (1 - z)
        through_z = p["W_hz"].T @ a_z
        dh[i - 1] = copy_path + through_n + through_r + through_z
    return dh
''',
        # row vectors and a running gradient
        '''def gru_backward(X, hs, gates, probs, target, params):
    p = params
    grad = probs.copy()
    grad[target] -= 1
    d = grad @ p["W_hy"]
    out = [d]
    for t in range(len(X) - 1, 0, -1):
        r, z, n, h_prev = gates["r"][t], gates["z"][t], gates["n"][t], hs[t]
        dn = d * (1 - z) * (1 - n * n)
        dz = d * (h_prev - n) * z * (1 - z)
        dr = dn * (h_prev @ p["W_hn"].T + p["b_hn"]) * r * (1 - r)
        d = d * z + (dn * r) @ p["W_hn"] + dz @ p["W_hz"] + dr @ p["W_hr"]
        out.append(d)
    return np.array(out[::-1])
''',
    ],
    "measures": [
        '''def spectral_radius(W):
    return max(abs(np.linalg.eigvals(W)))


def largest_singular_value(W):
    return np.linalg.norm(W, 2)


def decay_per_10_steps(g):
    t = np.arange(len(g), dtype=float)
    y = np.log10(np.asarray(g, dtype=float))
    slope = ((t - t.mean()) * (y - y.mean())).sum() / ((t - t.mean()) ** 2).sum()
    return 10 * slope
''',
        '''def spectral_radius(W):
    eigenvalues = np.linalg.eig(W)[0]
    return np.abs(eigenvalues).max()


def largest_singular_value(W):
    return float(np.sqrt(np.linalg.eigvalsh(W.T @ W).max()))


def decay_per_10_steps(g):
    A = np.column_stack([np.arange(1, len(g) + 1), np.ones(len(g))])
    (slope, intercept), *_ = np.linalg.lstsq(A, np.log10(g), rcond=None)
    return slope * 10
''',
    ],
    "clip_by_global_norm": [
        '''def clip_by_global_norm(grads, max_norm):
    total = 0.0
    for g in grads.values():
        total += float((g ** 2).sum())
    total = total ** 0.5
    clipped = {}
    for name, g in grads.items():
        clipped[name] = g * (max_norm / total) if total > max_norm else g.copy()
    return clipped, total
''',
        '''def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.linalg.norm(g) ** 2 for g in grads.values()))
    factor = max_norm / norm if norm > max_norm else 1.0
    return {k: np.multiply(v, factor) for k, v in grads.items()}, float(norm)
''',
    ],
}

NB02 = {
    "pair_names": PAIR,
    "hidden_grad_norms": [
        # an nn.RNNCell holding the module's parameters, explicit float32 zeros, a per-row loop
        '''def hidden_grad_norms(model, ids, lengths, labels):
    rnn = model.rnn
    cell = torch.nn.RNNCell(rnn.input_size, rnn.hidden_size)
    cell.weight_ih, cell.weight_hh = rnn.weight_ih_l0, rnn.weight_hh_l0
    cell.bias_ih, cell.bias_hh = rnn.bias_ih_l0, rnn.bias_hh_l0
    x = model.embed(ids)
    B, T = ids.shape
    h = torch.zeros(B, rnn.hidden_size)
    hs = []
    for t in range(T):
        h = cell(x[:, t, :], h)
        h.retain_grad()
        hs.append(h)
    final = torch.stack([hs[int(lengths[b]) - 1][b] for b in range(B)])
    logits = model.head(final).squeeze(-1)
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    loss.backward()
    out = torch.zeros(T)
    for t in range(T):
        rows = [b for b in range(B) if lengths[b] > t]
        out[t] = torch.stack([hs[t].grad[b].norm() for b in rows]).mean() if rows else float("nan")
    return out
''',
        # F.linear with explicit zeros, torch.autograd.grad, a boolean mask
        '''def hidden_grad_norms(model, ids, lengths, labels):
    w_ih, w_hh = model.rnn.weight_ih_l0, model.rnn.weight_hh_l0
    b_ih, b_hh = model.rnn.bias_ih_l0, model.rnn.bias_hh_l0
    emb = model.embed(ids)
    h = torch.zeros(ids.size(0), w_hh.size(0))
    states = []
    for t in range(ids.size(1)):
        h = torch.tanh(F.linear(emb[:, t], w_ih, b_ih) + F.linear(h, w_hh, b_hh))
        states.append(h)
    H_all = torch.stack(states, 1)
    last = H_all[torch.arange(len(lengths)), lengths - 1]
    loss = F.binary_cross_entropy_with_logits(model.head(last).view(-1), labels.float())
    grads = torch.autograd.grad(loss, states)
    norms = torch.stack([g.norm(dim=-1) for g in grads], 1)
    mask = torch.arange(ids.size(1))[None, :] < lengths[:, None]
    return torch.tensor([norms[mask[:, t], t].mean().item() for t in range(ids.size(1))])
''',
    ],
    "input_grad_norms": [
        '''def input_grad_norms(model, ids, lengths, labels):
    embedded = model.embed(ids)
    embedded.retain_grad()
    loss = F.binary_cross_entropy_with_logits(model.classify(embedded, lengths), labels.float())
    model.zero_grad()
    loss.backward()
    per_word = embedded.grad.norm(dim=-1)
    result = []
    for t in range(ids.shape[1]):
        reached = lengths > t
        result.append(per_word[reached, t].mean() if reached.any() else torch.tensor(float("nan")))
    return torch.stack(result).detach()
''',
        '''def input_grad_norms(model, ids, lengths, labels):
    x = model.embed(ids)
    logits = model.classify(x, lengths)
    (gx,) = torch.autograd.grad(torch.nn.BCEWithLogitsLoss()(logits, labels), x)
    norms = torch.linalg.norm(gx, dim=2)
    mask = (torch.arange(ids.shape[1]).expand(len(lengths), -1) < lengths.unsqueeze(1)).float()
    return (norms * mask).sum(dim=0) / mask.sum(dim=0)
''',
    ],
}

_RNN_PACKED = '''class SimpleRNNClassifier(SequenceClassifier):
    def __init__(self, vocab_size, embedding_dim=128, hidden_dim=128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.rnn = nn.RNN(embedding_dim, hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, 1)

    def embed(self, ids):
        return self.embedding(ids)

    def classify(self, embedded, lengths):
        h0 = torch.zeros(1, embedded.size(0), self.rnn.hidden_size)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(packed, h0)
        return self.fc(h_n[-1]).squeeze(-1)


class LSTMClassifier(SequenceClassifier):
    def __init__(self, vocab_size, embedding_dim=128, hidden_dim=128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, 1)

    def embed(self, ids):
        return self.embedding(ids)

    def classify(self, embedded, lengths):
        B = embedded.size(0)
        h0 = torch.zeros(1, B, self.lstm.hidden_size)
        c0 = torch.zeros(1, B, self.lstm.hidden_size)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h_n, c_n) = self.lstm(packed, (h0, c0))
        return self.fc(h_n[-1]).squeeze(-1)
'''

_RNN_GATHER = '''class SimpleRNNClassifier(SequenceClassifier):
    def __init__(self, vocab_size, embedding_dim=128, hidden_dim=128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.rnn = nn.RNN(input_size=embedding_dim, hidden_size=hidden_dim, num_layers=1, batch_first=True)
        self.fc = nn.Linear(hidden_dim, 1)

    def embed(self, ids):
        return self.embedding(ids)

    def classify(self, embedded, lengths):
        state = torch.zeros(1, embedded.shape[0], self.fc.in_features)
        out, _ = self.rnn(embedded, state)
        index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.shape[2])
        last = out.gather(1, index).squeeze(1)
        return self.fc(last).view(-1)


class LSTMClassifier(SequenceClassifier):
    def __init__(self, vocab_size, embedding_dim=128, hidden_dim=128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, 1)

    def embed(self, ids):
        return self.embedding(ids)

    def classify(self, embedded, lengths):
        out, _ = self.lstm(embedded)
        last = torch.stack([out[i, n - 1] for i, n in enumerate(lengths.tolist())])
        return self.fc(last)[:, 0]
'''

NB03 = {
    "pair_names": PAIR,
    "preprocess_text": [
        '''def preprocess_text(text):
    text = re.sub(r"<[a-zA-Z/][^>]*>", " ", text).lower()
    text = re.sub("'", "", text)
    text = "".join(ch if "a" <= ch <= "z" else " " for ch in text)
    return " ".join(text.split())
''',
        '''TAG = re.compile(r"<[A-Za-z/][^>]*>")

def preprocess_text(text):
    words = re.sub(r"[^a-z]", " ", TAG.sub(" ", text.lower()).replace("'", ""))
    return re.sub(r"\\s+", " ", words).strip()
''',
    ],
    "build_vocabulary": [
        '''def build_vocabulary(texts, max_size):
    counts = {}
    for text in texts:
        for word in text.split(" "):
            if word:
                counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: -counts[w])
    vocab = {PAD: 0, UNK: 1}
    for word in ranked[: max(0, max_size - 2)]:
        vocab[word] = len(vocab)
    return vocab
''',
        '''def build_vocabulary(texts, max_size):
    counter = Counter()
    for t in texts:
        counter.update(t.split())
    word_to_idx = {"<pad>": PAD_ID, "<unk>": UNK_ID}
    for i, (word, _) in enumerate(counter.most_common(max_size - 2), start=2):
        word_to_idx[word] = i
    return word_to_idx
''',
    ],
    "text_to_indices": [
        '''def text_to_indices(text, word_to_idx, max_len=None):
    ids = []
    for word in text.split():
        if max_len is not None and len(ids) == max_len:
            break
        ids.append(word_to_idx[word] if word in word_to_idx else UNK_ID)
    return ids
''',
        '''def text_to_indices(text, word_to_idx, max_len=None):
    return [word_to_idx.get(w, word_to_idx[UNK]) for w in text.split()[:max_len]]
''',
    ],
    "classifiers": [_RNN_PACKED, _RNN_GATHER],
    "train_epoch": [
        '''def train_epoch(model, loader, optimizer, device, progress=True):
    criterion = nn.BCEWithLogitsLoss()
    model.train()
    losses, hits, seen = 0.0, 0, 0
    for ids, lengths, labels in tqdm(loader, desc="train", leave=False, disable=not progress):
        ids = ids.to(device)
        labels = labels.to(device).float()
        optimizer.zero_grad(set_to_none=True)
        logits = model(ids, lengths)
        loss = criterion(logits, labels)
        loss.backward()
        optimizer.step()
        losses += loss.item() * len(labels)
        hits += ((torch.sigmoid(logits) > 0.5).long() == labels.long()).sum().item()
        seen += len(labels)
    return losses / seen, hits / seen
''',
        '''def train_epoch(model, loader, optimizer, device, progress=True):
    model.train()
    loss_sum = torch.tensor(0.0)
    correct = torch.tensor(0)
    n = 0
    for batch in tqdm(loader, desc="train", leave=False, disable=not progress):
        ids, lengths, labels = batch
        ids, labels = ids.to(device), labels.to(device)
        out = model(ids, lengths)
        loss = F.binary_cross_entropy_with_logits(out, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * ids.shape[0]
        correct += (out.detach().gt(0) == labels.bool()).sum()
        n += ids.shape[0]
    return float(loss_sum / n), float(correct) / n
''',
    ],
    "evaluate": [
        '''def evaluate(model, loader, device):
    criterion = nn.BCEWithLogitsLoss(reduction="sum")
    model.eval()
    total, right, n = 0.0, 0, 0
    with torch.no_grad():
        for ids, lengths, labels in loader:
            logits = model(ids.to(device), lengths)
            labels = labels.to(device)
            total += criterion(logits, labels).item()
            right += int(((torch.sigmoid(logits) >= 0.5).float() == labels).sum())
            n += len(labels)
    return total / n, right / n
''',
        '''@torch.inference_mode()
def evaluate(model, loader, device):
    model.eval()
    losses, accs, sizes = [], [], []
    for ids, lengths, labels in loader:
        logits = model(ids.to(device), lengths)
        labels = labels.to(device)
        losses.append(F.binary_cross_entropy_with_logits(logits, labels).item())
        accs.append(((logits > 0) == (labels > 0.5)).float().mean().item())
        sizes.append(len(labels))
    sizes = np.array(sizes)
    return float(np.dot(losses, sizes) / sizes.sum()), float(np.dot(accs, sizes) / sizes.sum())
''',
    ],
    "gradient_flow": [
        '''def gradient_flow(model, ids, lengths, labels):
    x = model.embed(ids)
    loss = F.binary_cross_entropy_with_logits(model.classify(x, lengths), labels)
    (gx,) = torch.autograd.grad(loss, x)
    model.zero_grad(set_to_none=True)
    per = gx.norm(dim=2)
    return torch.stack([per[lengths > t, t].mean() for t in range(ids.shape[1])])
''',
        '''def gradient_flow(model, ids, lengths, labels):
    model.zero_grad()
    embedded = model.embed(ids)
    embedded.retain_grad()
    logits = model.classify(embedded, lengths)
    nn.BCEWithLogitsLoss()(logits, labels.float()).backward()
    norms = embedded.grad.norm(p=2, dim=-1)
    out = torch.zeros(ids.shape[1])
    for t in range(ids.shape[1]):
        keep = (lengths > t).float()
        out[t] = (norms[:, t] * keep).sum() / keep.sum()
    model.zero_grad()
    return out
''',
    ],
    "lstm_state_norms": [
        # explicit float32 zero states
        '''def lstm_state_norms(lstm, embedded):
    h = torch.zeros(1, 1, lstm.hidden_size)
    c = torch.zeros(1, 1, lstm.hidden_size)
    hn, cn = [], []
    for t in range(embedded.shape[1]):
        _, (h, c) = lstm(embedded[:, t:t + 1], (h, c))
        hn.append(torch.linalg.norm(h))
        cn.append(torch.linalg.norm(c))
    return torch.tensor(hn), torch.tensor(cn)
''',
        # an nn.LSTMCell holding the module's weights
        '''def lstm_state_norms(lstm, embedded):
    cell = nn.LSTMCell(lstm.input_size, lstm.hidden_size)
    cell.weight_ih, cell.weight_hh = lstm.weight_ih_l0, lstm.weight_hh_l0
    cell.bias_ih, cell.bias_hh = lstm.bias_ih_l0, lstm.bias_hh_l0
    h = torch.zeros(1, lstm.hidden_size)
    c = torch.zeros(1, lstm.hidden_size)
    hidden_norms, cell_norms = [], []
    for t in range(embedded.size(1)):
        h, c = cell(embedded[:, t], (h, c))
        hidden_norms.append(h.norm().item())
        cell_norms.append(c.norm().item())
    return torch.tensor(hidden_norms), torch.tensor(cell_norms)
''',
    ],
}

NB04 = {
    "pair_names": PAIR,
    "vanilla_rnn_lm": [
        '''class VanillaRNNLM(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_dim, pad_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_idx)
        self.cell = nn.RNNCell(emb_dim, hidden_dim, nonlinearity="tanh")
        self.decoder = nn.Linear(hidden_dim, vocab_size)
        self.hidden_dim = hidden_dim

    def forward(self, x, h0=None):
        B, T = x.shape
        h = torch.zeros(B, self.hidden_dim, device=x.device) if h0 is None else h0
        emb = self.embedding(x)
        logits = []
        for t in range(T):
            h = self.cell(emb[:, t, :], h)
            logits.append(self.decoder(h))
        return torch.stack(logits, dim=1), h
''',
        '''class VanillaRNNLM(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_dim, pad_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_idx)
        self.cell = nn.RNNCell(emb_dim, hidden_dim)
        self.decoder = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x, h0=None):
        emb = self.embedding(x)
        h = h0
        outs = []
        for x_t in emb.unbind(1):
            h = self.cell(x_t) if h is None else self.cell(x_t, h)
            outs.append(h.unsqueeze(1))
        out = torch.cat(outs, 1)
        return self.decoder(out.reshape(-1, out.shape[-1])).reshape(x.shape[0], x.shape[1], -1), h
''',
    ],
    "lstm_lm": [
        '''class LSTMLM(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_dim, pad_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_idx)
        self.lstm = nn.LSTM(emb_dim, hidden_dim, num_layers=1, batch_first=True)
        self.decoder = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x, state=None):
        if state is None:
            zeros = torch.zeros(1, x.size(0), self.lstm.hidden_size, device=x.device)
            state = (zeros, zeros.clone())
        out, (h, c) = self.lstm(self.embedding(x), state)
        return self.decoder(out), (h, c)
''',
        '''class LSTMLM(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_dim, pad_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, pad_idx)
        self.lstm = nn.LSTM(input_size=emb_dim, hidden_size=hidden_dim, batch_first=True)
        self.decoder = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x, state=None):
        out, new_state = self.lstm(self.embedding(x), state)
        B, T, H_ = out.shape
        return self.decoder(out.contiguous().view(B * T, H_)).view(B, T, -1), new_state
''',
    ],
    "loss_and_metrics": [
        '''def lm_loss(logits, targets, pad_idx=0):
    log_probs = F.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    mask = (targets != pad_idx).float()
    return -(picked * mask).sum() / mask.sum()


def perplexity(mean_loss):
    import math
    return math.exp(mean_loss)


def recurrent_grad_norm(model):
    squares = []
    for name, param in model.named_parameters():
        if name.endswith("weight_hh") or name.endswith("weight_hh_l0"):
            squares.append(param.grad.flatten())
    return torch.linalg.norm(torch.cat(squares)).item()
''',
        '''def lm_loss(logits, targets, pad_idx=0):
    return nn.CrossEntropyLoss(ignore_index=pad_idx)(logits.transpose(1, 2), targets)


def perplexity(mean_loss):
    return np.exp(mean_loss)


def recurrent_grad_norm(model):
    total = 0.0
    for name, p in model.named_parameters():
        if "weight_hh" in name and p.grad is not None:
            total += p.grad.norm().item() ** 2
    return total ** 0.5
''',
    ],
}

VARIANTS = {
    "01_bptt_by_hand": NB01,
    "02_imdb_gradient_probe": NB02,
    "03_rnn_vs_lstm_sweep": NB03,
    "04_wikitext_perplexity": NB04,
}

# Honest notebooks in the shapes students write them, beyond the answer cells (#30, #33): each must
# keep full marks. (assignment, answers to replace, cells to add after a grade_id)
_HEATMAPS = '''import matplotlib.pyplot as plt
import numpy as np
for k in range(4):  # exploring: four large heat maps, left open as a notebook shows them
    plt.figure(figsize=(10, 10))
    plt.imshow(np.random.default_rng(k).random((600, 600)), cmap="viridis")
    plt.colorbar()
    plt.title(f"noise {k}")
'''
_CLIP_WITH_GRAD_LOOP = '''def clip_by_global_norm(grads, max_norm):
    total = float(np.sqrt(sum(float(np.sum(grad ** 2)) for grad in grads.values())))
    scale = max_norm / total if total > max_norm else 1.0
    clipped = {}
    for name, grad in grads.items():
        clipped[name] = grad * scale
    return clipped, total
'''
_LATER_AUTOGRAD_IMPORT = "from torch.autograd import grad  # for trying things out later\nimport torch\n"
_FLOAT32_PROBE = '''def hidden_grad_norms(model, ids, lengths, labels):
    rnn = model.rnn
    x = model.embed(ids)
    h = torch.zeros(ids.shape[0], rnn.hidden_size)  # float32, the default dtype
    states = []
    for t in range(ids.shape[1]):
        h = torch.tanh(x[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)
        h.retain_grad()
        states.append(h)
    final = torch.stack(states, 1)[torch.arange(ids.shape[0]), lengths - 1]
    F.binary_cross_entropy_with_logits(model.head(final).squeeze(-1), labels).backward()
    norms = torch.stack([s.grad.double().norm(dim=1) for s in states], 1)
    real = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).double()
    model.zero_grad()
    return ((norms * real).sum(0) / real.sum(0)).detach()
'''
_EVALUATE_RESTORING_MODE = '''def evaluate(model, loader, device):
    was_training = model.training
    model.eval()
    total, right, n = 0.0, 0, 0
    try:
        with torch.no_grad():
            for ids, lengths, labels in loader:
                logits = model(ids.to(device), lengths)
                labels = labels.to(device)
                total += F.binary_cross_entropy_with_logits(logits, labels, reduction="sum").item()
                right += int(((logits > 0).float() == labels).sum())
                n += labels.numel()
    finally:
        model.train(was_training)  # leave the model as the caller had it
    return total / n, right / n
'''
HONEST = {
    "heat-maps": ("01_bptt_by_hand", {}, [("rnn_forward", _HEATMAPS), ("rnn_backward", _HEATMAPS),
                                          ("gru_forward", _HEATMAPS), ("measures", _HEATMAPS)]),
    "grad-loop-variable": ("01_bptt_by_hand", {"clip_by_global_norm": _CLIP_WITH_GRAD_LOOP},
                           [("test_clip", _LATER_AUTOGRAD_IMPORT)]),
    "timeit-magic": ("01_bptt_by_hand", {"rnn_forward": None}, []),  # the solution's answer + a %timeit line
    "float32-zeros": ("02_imdb_gradient_probe", {"hidden_grad_norms": _FLOAT32_PROBE}, []),
    "evaluate-restores-mode": ("03_rnn_vs_lstm_sweep", {"evaluate": _EVALUATE_RESTORING_MODE}, []),
}
TIMEIT_LINE = "\n%timeit -n 1 -r 1 rnn_forward(X, init_rnn(D, H, V, np.random.default_rng(0)), target)\n"

# Wrong answers that the TODO's text rules out in a case its tests must exercise (#34): each loses
# exactly the points of a missing answer. (assignment, grade_id, text of the solution, replaced by)
MUTANTS = {
    "b_y-never-set": ("01_bptt_by_hand", "rnn_backward", '"b_y": dlogits,', '"b_y": np.zeros_like(params["b_y"]),'),
    "mean-over-every-review": ("02_imdb_gradient_probe", "hidden_grad_norms",
                               "return ((norms * real).sum(0) / real.sum(0)).detach()",
                               "return norms.mean(0).detach()"),
    "split-on-one-space": ("03_rnn_vs_lstm_sweep", "text_to_indices", "text.split()", 'text.split(" ")'),
    "no-zero-grad": ("03_rnn_vs_lstm_sweep", "train_epoch", "        optimizer.zero_grad()\n", ""),
    "sum-of-norms": ("04_wikitext_perplexity", "loss_and_metrics",
                     "return float(torch.sqrt(sum((g ** 2).sum() for g in grads)))",
                     "return float(sum(g.norm() for g in grads))"),
}

# The precision matrix (#33): each TODO whose test runs it in float64 and falls back to float32
# (``run_in_float64_or_float32``). The solution is the float64 answer; the replacements below make
# a correct float32 one (a float32 start state or float32 labels, as the TODO text allows), and a
# float32 one that is also wrong, which must still fail.
_FLOAT_LABELS = ("labels.to(logits.dtype)", "labels.float()")
_MEAN_OVER_ALL = ("return ((norms * real).sum(0) / real.sum(0)).detach()", "return norms.mean(0).detach()")
PRECISION = {
    "hidden_grad_norms": ("02_imdb_gradient_probe",
                          [("h = x.new_zeros(ids.shape[0], rnn.hidden_size)",
                            "h = torch.zeros(ids.shape[0], rnn.hidden_size)"),
                           ("labels.to(final.dtype)", "labels.float()")], _MEAN_OVER_ALL),
    "input_grad_norms": ("02_imdb_gradient_probe", [_FLOAT_LABELS], _MEAN_OVER_ALL),
    "gradient_flow": ("03_rnn_vs_lstm_sweep", [_FLOAT_LABELS], _MEAN_OVER_ALL),
    "lstm_state_norms": ("03_rnn_vs_lstm_sweep",
                         [("state, hidden, cell = None, [], []",
                           "zeros = torch.zeros(1, 1, lstm.hidden_size)\n"
                           "    state, hidden, cell = (zeros, zeros), [], []")],
                         ("hidden.append(state[0][-1, 0].norm())", "hidden.append(state[1][-1, 0].norm())")),
}
