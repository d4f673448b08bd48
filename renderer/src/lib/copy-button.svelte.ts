/**
 * A Copy button's state: copies a text to the clipboard and says so for a moment, or that the
 * clipboard refused (an insecure origin, a denied permission), so the operator selects it by hand.
 */
import { t } from './i18n.svelte';

export class CopyButtonState {
  copied = $state(false);
  failed = $state(false);

  async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.copied = true;
      this.failed = false;
      setTimeout(() => (this.copied = false), 1500);
    } catch {
      this.failed = true;
    }
  }

  /** The button's label: Copy, Copied, or Copy failed. */
  get label(): string {
    return this.copied ? t('core.copied') : this.failed ? t('core.copyFailed') : t('core.copy');
  }
}
