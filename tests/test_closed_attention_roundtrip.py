"""A compacted model whose layer has no heads left (market.close_attention) survives save_served → serve.load_served: the
loaded model gives the in-memory model's logits under HF's sdpa and eager attention (on CPU)."""
import tempfile

import pytest
import torch

from compecon_nb import data as D, market as M, serve as S


@pytest.mark.parametrize('impl', ['sdpa', 'eager'])
def test_closed_attention_layer_round_trip(impl):
    torch.manual_seed(0)
    m, tok = D.load_model('bert-tiny', task='sick'); m.eval()
    M.close_attention(m, 0)
    assert m.bert.encoder.layer[0].attention.self.query.weight.shape[0] == 0
    ids = tok(['two dogs run in the snow', 'no dog is running'], return_tensors='pt', padding=True)
    with torch.no_grad():
        ref = m(**ids).logits
        d = tempfile.mkdtemp()
        M.save_served(m, tok, d)
        m2 = S.load_served(d)
        m2.set_attn_implementation(impl)
        got = m2(**ids).logits
    assert m2.bert.encoder.layer[0].attention.self.num_attention_heads == 0
    torch.testing.assert_close(got, ref)


def test_closed_attention_layer_never_calls_sdpa_on_zero_heads(monkeypatch):
    """The serving runtime's HF path (`Server(runtime='hf_eager')`: HF's SDPA attention, bf16) on a loaded model with a layer of no
    heads: on CUDA, SDPA over a zero-head query gave None (transformers 5.17: "'NoneType' object has no attribute 'transpose'"),
    so such a layer must not call it at all; CPU's SDPA returns an empty tensor and would hide the fault."""
    torch.manual_seed(0)
    m, tok = D.load_model('bert-tiny', task='sick'); m.eval()
    M.close_attention(m, 0)
    d = tempfile.mkdtemp()
    M.save_served(m, tok, d)
    heads, sdpa = [], torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, 'scaled_dot_product_attention', lambda q, *a, **k: heads.append(q.shape[1]) or sdpa(q, *a, **k))
    ids = tok(['two dogs run in the snow', 'no dog is running'], return_tensors='pt', padding=True)
    args = ids['input_ids'], ids['token_type_ids'], ids['attention_mask'].bool()
    got = S.Server(S.load_served(d), runtime='hf_eager', dtype=torch.bfloat16, device='cpu')(*args)
    ref = S.Server(m, runtime='hf_eager', dtype=torch.bfloat16, device='cpu')(*args)
    assert heads and 0 not in heads
    torch.testing.assert_close(got, ref)
