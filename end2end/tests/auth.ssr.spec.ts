import { expect, PASSWORD, test, uniqueEmail } from './helpers';

// Runs with JavaScript on and off: the sign-in forms work as plain HTML forms.
test('signing up and a wrong password work as plain forms too', async ({ page }) => {
  const email = uniqueEmail('plain');
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByRole('heading', { name: 'Your projects' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText("don't match an account");
  // What was typed comes back, except the password, and never through the
  // address, which the browser's history keeps.
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await expect(page.getByLabel('Password')).toHaveValue('');
  expect(page.url()).not.toContain(email.split('@')[0]);
});
