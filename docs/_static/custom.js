// compecon-nb site helpers (offline, no dependency):
// 1. a figure shown smaller than it is opens full size on click (3-panel figures are 3,000+ px wide);
// 2. search results show math as text, without the \( \) delimiters MathJax would have typeset.
(function () {
  function zoomable(img) {
    if (img.closest('a') || img.closest('.img-lightbox')) return;
    const mark = () => { if (img.naturalWidth > img.clientWidth + 2) img.classList.add('zoomable'); };
    if (img.complete) mark(); else img.addEventListener('load', mark);
    img.addEventListener('click', () => {
      if (!img.classList.contains('zoomable')) return;
      const box = document.createElement('div');
      box.className = 'img-lightbox';
      box.title = 'click or press Esc to close';
      const big = document.createElement('img');
      big.src = img.currentSrc || img.src; big.alt = img.alt || '';
      box.appendChild(big);
      const close = () => { box.remove(); document.removeEventListener('keydown', esc); };
      const esc = (e) => { if (e.key === 'Escape') close(); };
      box.addEventListener('click', close);
      document.addEventListener('keydown', esc);
      document.body.appendChild(box);
    });
  }
  function mathAsText(html) {
    const doc = new DOMParser().parseFromString(html, 'text/html');
    doc.querySelectorAll('.math').forEach((el) => {
      el.textContent = el.textContent.trim().replace(/^\\[\(\[]/, '').replace(/\\[\)\]]$/, '').trim();
    });
    return doc.documentElement.outerHTML;
  }
  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('article img').forEach(zoomable);
    if (typeof Search !== 'undefined' && Search.htmlToText && !Search._mathAsText) {
      const orig = Search.htmlToText;
      Search.htmlToText = (html, anchor) => orig(mathAsText(html), anchor);
      Search._mathAsText = true;
    }
  });
})();
