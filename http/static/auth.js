// The token dialog: asked once when the server answers 401, checked against
// /sync/status before it is stored, shown again only after a later 401.

import { ApiError, api } from './api.js';

export class TokenDialog {
  /** onAccepted(token) runs after the server accepted the token. */
  constructor(dialog, { onAccepted }) {
    this.dialog = dialog;
    this.onAccepted = onAccepted;
    this.form = dialog.querySelector('#token-form');
    this.input = dialog.querySelector('#token-input');
    this.error = dialog.querySelector('#token-error');
    this.reason = dialog.querySelector('#token-reason');
    this.submit = dialog.querySelector('#token-submit');
    this.checking = false;

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.check();
    });
    this.dialog.querySelector('#token-close').addEventListener('click', () => this.close());
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(reason) {
    this.reason.textContent = reason;
    this.showError('');
    if (!this.dialog.open) {
      if (typeof this.dialog.showModal === 'function') this.dialog.showModal();
      else this.dialog.setAttribute('open', '');
    }
    this.input.focus();
  }

  close() {
    if (this.dialog.open) {
      if (typeof this.dialog.close === 'function') this.dialog.close();
      else this.dialog.removeAttribute('open');
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
    this.input.setAttribute('aria-invalid', String(Boolean(text)));
  }

  async check() {
    if (this.checking) return;
    const token = this.input.value.trim();
    if (!token) {
      this.showError('Enter the API token.');
      this.input.focus();
      return;
    }
    this.checking = true;
    this.submit.disabled = true;
    this.submit.textContent = 'Checking...';
    this.showError('');
    try {
      await api.status({ token });
      this.input.value = '';
      this.close();
      this.onAccepted(token);
    } catch (err) {
      const detail = err instanceof ApiError ? err.detail : String(err);
      this.showError(err.status === 401 ? `That token was not accepted: ${detail}` : `Could not check the token: ${detail}`);
      this.input.select();
    } finally {
      this.checking = false;
      this.submit.disabled = false;
      this.submit.textContent = 'Save token';
    }
  }
}
